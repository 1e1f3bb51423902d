"""DLE EOT answers decoded into status values; the virtual printer's parser on any split of the stream."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import GENERIC_80
from drivers.escpos.status import StatusBytes, decode_status
from hal.printer import Align, Cut, Feed, PrintDocument, PrinterState, QrCode, Raster, TextLine
from harness.printer import parser as p

READY = StatusBytes(0x12, 0x12, 0x12, 0x12)


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        (READY, PrinterState.READY),
        (StatusBytes(0x12, 0x12, 0x12, 0x1E), PrinterState.PAPER_LOW),
        (StatusBytes(0x1A, 0x32, 0x12, 0x7E), PrinterState.NO_PAPER),
        (StatusBytes(0x1A, 0x16, 0x12, 0x12), PrinterState.COVER_OPEN),
        (StatusBytes(0x1A, 0x52, 0x32, 0x12), PrinterState.ERROR),
        (StatusBytes(0x1A, 0x12, 0x1A, 0x12), PrinterState.ERROR),
        (StatusBytes(0x1A, 0x12, 0x12, 0x12), PrinterState.OFFLINE),
        (StatusBytes(0x12, 0x00, 0x12, 0x12), PrinterState.ERROR),
    ],
)
def test_status_bytes_decode_to_the_most_pressing_state(answers: StatusBytes, state: PrinterState) -> None:
    assert decode_status(answers).state is state


def test_paper_end_outranks_an_open_cover() -> None:
    assert decode_status(StatusBytes(0x1A, 0x36, 0x12, 0x7E)).state is PrinterState.NO_PAPER


def test_a_malformed_answer_is_an_error_naming_the_byte() -> None:
    assert decode_status(StatusBytes(0x12, 0x12, 0xFF, 0x12)).detail == "malformed error_cause status byte 0xff"


DOCUMENT = PrintDocument(
    "parser",
    (
        TextLine("B-0042", Align.RIGHT, scale=2, bold=True),
        Raster(width_dots=16, height_dots=3, data=bytes(range(6)), align=Align.CENTER),
        QrCode("123456784"),
        Feed(2),
        Cut(),
    ),
)
JOB = encode_document(DOCUMENT, GENERIC_80)


def test_the_parser_reads_the_encoders_job_as_the_commands_it_meant() -> None:
    commands = p.Tokenizer().feed(JOB)
    assert commands == [
        p.Initialize(),
        p.SetAlign(2),
        p.SetBold(True),
        p.SetSize(2, 2),
        p.Text(b"B-0042"),
        p.LineFeed(),
        p.SetAlign(1),
        p.RasterImage(2, 3, bytes(range(6))),
        p.QrFunction(0x41, b"\x32\x00"),
        p.QrFunction(0x43, b"\x04"),
        p.QrFunction(0x45, b"\x31"),
        p.QrFunction(0x50, b"\x30123456784"),
        p.QrFunction(0x51, b"\x30"),
        p.FeedLines(2),
        p.Cut(),
    ]


@given(st.lists(st.integers(min_value=1, max_value=len(JOB)), max_size=12))
def test_the_parser_gives_the_same_commands_however_the_bytes_arrive(cuts: list[int]) -> None:
    tokenizer = p.Tokenizer()
    bounds = [0, *sorted(set(cuts)), len(JOB)]
    pieces = [JOB[a:b] for a, b in itertools.pairwise(bounds)]
    received = [command for piece in pieces for command in tokenizer.feed(piece)]
    assert received == p.Tokenizer().feed(JOB)


def test_real_time_requests_are_recognised_between_commands() -> None:
    stream = b"\x10\x04\x01" + b"AB" + b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08" + b"\x1d\x72\x01"
    assert p.Tokenizer().feed(stream) == [p.RealTimeStatus(1), p.Text(b"AB"), p.ClearBuffers(), p.TransmitStatus(1)]
