"""Fuzz targets for what a printer sends: the answer parser, the exchange that confirms a job, the status
decoders. Inputs are mutations of genuine printer streams; a rule broken is raised, so it counts as an escape."""

from __future__ import annotations

import itertools
import random

from drivers.escpos.answers import AnswerParser, FlowControl, PaperStatus, RealTimeStatus, Response
from drivers.escpos.exchange import Exchange, JobConfirmed
from drivers.escpos.profiles import EPSON_PROCESS_ID
from drivers.escpos.status import (
    StatusBytes,
    decode_automatic_status,
    decode_paper_status,
    decode_status,
)
from harness.fuzz import FuzzTarget, mutate

JOB_ID = b"K7Q2"
REQUESTS_WAITING = 4
_PIECES = (
    b"\x12", b"\x1a", b"\x16", b"\x32", b"\x7e", b"\x1e",  # DLE EOT answers
    b"\x11", b"\x13",  # XON, XOFF
    b"\x10\x00\x00\x00", b"\x30\x00\x0c\x00",  # automatic status
    b"\x37\x25\x00",  # clear response
    EPSON_PROCESS_ID.response(b"AAAA"),  # another job's confirmation
    b"\x00", b"\x03", b"\x0c",  # GS r 1 answers, or strays
)


class RuleBrokenError(AssertionError):
    """A fuzz input made a parser break its own contract."""


def _genuine(rng: random.Random) -> bytes:
    """Status answers and flow control around this job's confirmation, sometimes with other pieces."""
    pieces = [rng.choice(_PIECES[:8]) for _ in range(rng.randint(0, REQUESTS_WAITING))]
    if rng.random() < 0.8:
        pieces.append(EPSON_PROCESS_ID.response(JOB_ID) + rng.choice((b"\x00", b"\x03", b"\x0c")))
    pieces += [rng.choice(_PIECES) for _ in range(rng.randint(0, 3))]
    rng.shuffle(pieces)
    return b"".join(pieces)


def _stream_input(rng: random.Random) -> bytes:
    data = _genuine(rng)
    return data if rng.random() < 0.1 else mutate(rng, data, alphabet=bytes(itertools.chain(*_PIECES)))


def _splits(data: bytes) -> list[bytes]:
    """Cut the stream where its own bytes say, so the same input is always split the same way."""
    cuts = sorted({value % (len(data) + 1) for value in data[:6]})
    bounds = [0, *cuts, len(data)]
    return [data[lo:hi] for lo, hi in itertools.pairwise(bounds)]


def _feed_answers(data: bytes) -> object:
    whole = AnswerParser()
    answers = whole.feed(data)
    split = AnswerParser()
    pieces = [answer for piece in _splits(data) for answer in split.feed(piece)]
    if pieces != answers or split.pending != whole.pending:
        raise RuleBrokenError("the answers depend on how the bytes were split")
    if sum(len(answer.raw) for answer in answers) + len(whole.pending) != len(data):
        raise RuleBrokenError("a byte was lost or invented")
    return answers


def _feed_confirmation(data: bytes) -> object:
    exchange = Exchange(EPSON_PROCESS_ID)
    for _ in range(REQUESTS_WAITING):
        exchange.sent_status_request(expires_at=1.0)
    exchange.start_job(JOB_ID)
    for piece in _splits(data):
        exchange.receive(piece)
    verdict = exchange.job_verdict()
    if isinstance(verdict, JobConfirmed):
        answers = AnswerParser().feed(data)
        statuses = [a for a in answers if isinstance(a, RealTimeStatus)]
        rest = [a for a in answers if not isinstance(a, FlowControl | RealTimeStatus)]
        genuine = (
            len(statuses) <= REQUESTS_WAITING
            and len(rest) == 2
            and rest[0] == Response(0x22, JOB_ID)
            and isinstance(rest[1], PaperStatus)
            and not rest[1].value & 0x0C
        )
        if not genuine:
            raise RuleBrokenError(f"job confirmed by {data.hex(' ')}")
    return verdict


def _status_input(rng: random.Random) -> bytes:
    return mutate(rng, rng.choice((b"\x12\x12\x12\x12", b"\x1a\x32\x12\x7e", b"\x10\x00\x03\x00")))


def _feed_status(data: bytes) -> object:
    padded = (data + bytes(4))[:4]
    return (
        decode_status(StatusBytes(*padded)),
        decode_automatic_status(data),
        [decode_paper_status(value) for value in data[:8]],
    )


def targets() -> list[FuzzTarget]:
    return [
        FuzzTarget("printer.answers", _stream_input, _feed_answers),
        FuzzTarget("printer.confirmation", _stream_input, _feed_confirmation),
        FuzzTarget("printer.status", _status_input, _feed_status),
    ]
