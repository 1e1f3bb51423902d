"""What the printer sends, parsed strictly, and the exchange that alone decides a job was confirmed."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from drivers.escpos.answers import (
    AnswerParser,
    AutomaticStatus,
    FlowControl,
    PaperStatus,
    RealTimeStatus,
    Response,
    Unexpected,
)
from drivers.escpos.exchange import Exchange, JobConfirmed, JobRefused
from drivers.escpos.profiles import EPSON_PROCESS_ID
from drivers.escpos.status import decode_automatic_status, decode_paper_status
from hal.printer import PrinterState
from harness.printer import parser as p

JOB_ID = b"K7Q2"
CONFIRMATION = EPSON_PROCESS_ID.response(JOB_ID) + b"\x00"
"""The whole good answer to a job: 37 22 K7Q2 00, then the GS r 1 byte 00 (paper present)."""


def parse(data: bytes) -> list[object]:
    return list(AnswerParser().feed(data))


def test_every_kind_of_answer_is_told_apart() -> None:
    stream = b"\x11\x12\x13\x03" + b"\x14\x00\x03\x00" + b"\x37\x22K7Q2\x00" + b"\x37\x25\x00" + b"\xff"
    assert parse(stream) == [
        FlowControl(True),
        RealTimeStatus(0x12),
        FlowControl(False),
        PaperStatus(0x03),
        AutomaticStatus(b"\x14\x00\x03\x00"),
        Response(0x22, b"K7Q2"),
        Response(0x25, b""),
        Unexpected(b"\xff", "byte fits no answer"),
    ]


def test_xon_xoff_inside_a_response_are_flow_control_and_the_response_survives() -> None:
    assert parse(b"\x37\x13\x22K7\x11Q2\x00") == [FlowControl(False), FlowControl(True), Response(0x22, b"K7Q2")]


def test_a_broken_frame_is_unexpected_and_the_byte_that_broke_it_is_read_afresh() -> None:
    assert parse(b"\x37\x22K7\x12") == [Unexpected(b"\x37\x22K7", "header-to-NUL response broken off"), RealTimeStatus(0x12)]
    assert parse(b"\x10\x00\x12") == [Unexpected(b"\x10\x00", "automatic status broken off"), RealTimeStatus(0x12)]
    assert parse(b"\x37\x00") == [Unexpected(b"\x37", "header-to-NUL response broken off"), PaperStatus(0)]


def test_an_overlong_response_is_unexpected() -> None:
    [answer] = parse(b"\x37\x22" + b"A" * 81)
    assert isinstance(answer, Unexpected) and "too long" in answer.reason


@given(st.binary(max_size=200), st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_the_parser_accounts_for_every_byte_however_the_bytes_arrive(data: bytes, cuts: list[int]) -> None:
    whole = AnswerParser()
    expected = whole.feed(data)
    split = AnswerParser()
    bounds = [0, *sorted({min(c, len(data)) for c in cuts}), len(data)]
    received = [a for lo, hi in itertools.pairwise(bounds) for a in split.feed(data[lo:hi])]
    assert received == expected and split.pending == whole.pending
    assert sum(len(a.raw) for a in received) + len(whole.pending) == len(data)


def test_automatic_status_and_paper_status_decode_to_states() -> None:
    assert decode_automatic_status(b"\x10\x00\x00\x00").state is PrinterState.READY
    assert decode_automatic_status(b"\x30\x00\x00\x00").state is PrinterState.COVER_OPEN
    assert decode_automatic_status(b"\x18\x00\x0c\x00").state is PrinterState.NO_PAPER
    assert decode_automatic_status(b"\x10\x00\x03\x00").state is PrinterState.PAPER_LOW
    assert decode_paper_status(0x04).state is PrinterState.NO_PAPER, "half a sensor pair still counts"
    assert decode_paper_status(0x12).state is PrinterState.ERROR


def job_exchange() -> Exchange:
    exchange = Exchange(EPSON_PROCESS_ID)
    exchange.start_job(JOB_ID)
    return exchange


def test_a_job_is_confirmed_by_its_own_id_then_one_paper_byte_with_flow_control_anywhere() -> None:
    exchange = job_exchange()
    exchange.receive(b"\x13\x37\x22K7\x11Q2")
    assert exchange.job_verdict() is None and not exchange.paused
    exchange.receive(b"\x00\x13\x00\x11")
    assert isinstance(exchange.job_verdict(), JobConfirmed)


def test_the_paper_byte_alone_or_before_the_id_confirms_nothing() -> None:
    exchange = job_exchange()
    exchange.receive(b"\x00")
    verdict = exchange.job_verdict()
    assert isinstance(verdict, JobRefused) and verdict.status.state is PrinterState.UNCONFIRMED
    exchange.receive(CONFIRMATION)
    assert isinstance(exchange.job_verdict(), JobRefused), "a refusal is final"


def test_another_jobs_id_or_a_second_paper_byte_refuses_the_job() -> None:
    stale = job_exchange()
    stale.receive(EPSON_PROCESS_ID.response(b"AAAA") + b"\x00")
    assert isinstance(stale.job_verdict(), JobRefused)
    doubled = job_exchange()
    doubled.receive(CONFIRMATION + b"\x00")
    assert isinstance(doubled.job_verdict(), JobRefused)


def test_paper_end_in_the_completion_answer_refuses_the_job_as_no_paper() -> None:
    exchange = job_exchange()
    exchange.receive(EPSON_PROCESS_ID.response(JOB_ID) + b"\x0c")
    verdict = exchange.job_verdict()
    assert isinstance(verdict, JobRefused) and verdict.status.state is PrinterState.NO_PAPER


def test_status_answers_go_to_the_oldest_request_and_late_ones_are_absorbed_until_they_expire() -> None:
    exchange = job_exchange()
    first = exchange.sent_status_request(expires_at=10.0)
    exchange.abandon(first)
    second = exchange.sent_status_request(expires_at=10.0)
    exchange.receive(b"\x1a\x12")
    assert exchange.answer(second) == 0x12, "the late answer to the first request was not taken for the second"
    assert exchange.job_verdict() is None
    third = exchange.sent_status_request(expires_at=1.0)
    exchange.abandon(third)
    exchange.expire(now=2.0)
    exchange.receive(b"\x12")
    assert isinstance(exchange.job_verdict(), JobRefused), "an answer nobody waits for any more is unexpected"


def test_outside_a_job_unexplained_bytes_are_noise_for_the_status_round() -> None:
    exchange = Exchange(EPSON_PROCESS_ID)
    exchange.receive(b"\x00\x37\x25\x00")
    assert len(exchange.take_noise()) == 2 and exchange.take_noise() == []
    exchange.sent_clear()
    exchange.receive(b"\x37\x25\x00")
    assert exchange.clear_acknowledged and exchange.take_noise() == []


def test_the_virtual_printer_reads_gs_paren_h_as_a_process_id_request() -> None:
    stream = EPSON_PROCESS_ID.requests(JOB_ID) + b"\x1d\x28\x48\x06\x00\x30\x30\x01\x02\x03\x04"
    assert p.Tokenizer().feed(stream) == [
        p.ProcessIdRequest(JOB_ID),
        p.TransmitStatus(1),
        p.Unknown(b"\x1d\x28\x48\x06\x00\x30\x30\x01\x02\x03\x04"),
    ]
