"""The host's side of the conversation with one printer, without I/O: what was asked, what came back, and
whether the job in flight has been confirmed. The serial driver moves bytes; this decides what they mean.

Rules: an answer to DLE EOT belongs to the oldest request still waiting (real-time commands are
answered in order); a job is confirmed only by its own process ID response followed by one paper-status
byte; while a job is in flight, any other byte (noise, a stray 00, an automatic status message, another
job's confirmation, an answer nobody asked for) makes the job unconfirmable. Outside a job such bytes
are kept as `noise` for the status round to judge. XON/XOFF only set `paused`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import assert_never

from drivers.escpos import commands
from drivers.escpos.answers import (
    Answer,
    AnswerParser,
    AutomaticStatus,
    FlowControl,
    PaperStatus,
    RealTimeStatus,
    Response,
    Unexpected,
)
from drivers.escpos.profiles import JobConfirmation
from drivers.escpos.status import decode_automatic_status, decode_paper_status
from hal.printer import PrinterState, PrinterStatus

_SHOWN_BYTES = 16


@dataclass(frozen=True)
class JobConfirmed:
    """The printer confirmed this job and, in the same breath, reported its paper sensor as `paper`."""

    paper: PrinterStatus


@dataclass(frozen=True)
class JobRefused:
    """The job cannot count as printed: `status` says why (paper end, cover open, unconfirmed...)."""

    status: PrinterStatus


JobVerdict = JobConfirmed | JobRefused


@dataclass
class _Request:
    sequence: int
    expires_at: float
    wanted: bool = True


@dataclass
class _Job:
    response: bytes
    confirmed: bool = False
    paper: int | None = None
    refusal: PrinterStatus | None = None


def _shown(data: bytes) -> str:
    more = "…" if len(data) > _SHOWN_BYTES else ""
    return data[:_SHOWN_BYTES].hex(" ") + more


class Exchange:
    """Feed it every byte received (`receive`) and tell it every request sent; ask it what they meant."""

    def __init__(self, confirmation: JobConfirmation) -> None:
        self._confirmation = confirmation
        self._parser = AnswerParser()
        self._waiting: deque[_Request] = deque()
        self._answers: dict[int, int] = {}
        self._sequence = 0
        self._job: _Job | None = None
        self._clear_requested = False
        self._clear_acknowledged = False
        self._noise: list[str] = []
        self.paused = False
        """XOFF seen and no XON since: hold the job's bytes (real-time requests may still go)."""

    def receive(self, data: bytes) -> None:
        for answer in self._parser.feed(data):
            self._take(answer)

    # --- requests --------------------------------------------------------------------------------

    def sent_status_request(self, expires_at: float) -> int:
        """Note a DLE EOT request just sent; its answer is awaited until `expires_at` (monotonic seconds)."""
        self._sequence += 1
        self._waiting.append(_Request(self._sequence, expires_at))
        return self._sequence

    def answer(self, sequence: int) -> int | None:
        """The answer to request `sequence`, once (None while it has not come)."""
        return self._answers.pop(sequence, None)

    def has_answer(self, sequence: int) -> bool:
        return sequence in self._answers

    def abandon(self, sequence: int) -> None:
        """Stop wanting the answer to `sequence`; if it still comes before it expires it is absorbed."""
        for request in self._waiting:
            if request.sequence == sequence:
                request.wanted = False
        self._answers.pop(sequence, None)

    def next_expiry(self) -> float | None:
        """When the oldest request still waiting for its answer gives up, if any is waiting."""
        return min((request.expires_at for request in self._waiting), default=None)

    def expire(self, now: float) -> None:
        """Requests unanswered at `now` are lost; an answer that comes later is unexpected."""
        self._waiting = deque(request for request in self._waiting if request.expires_at > now)

    def sent_clear(self) -> None:
        self._clear_requested, self._clear_acknowledged = True, False

    @property
    def clear_acknowledged(self) -> bool:
        return self._clear_acknowledged

    # --- the job ---------------------------------------------------------------------------------

    def start_job(self, job_id: bytes) -> None:
        self._job = _Job(self._confirmation.response(job_id))

    def end_job(self) -> None:
        self._job = None

    def job_verdict(self) -> JobVerdict | None:
        """None while the job is neither confirmed nor refused (or no job is in flight)."""
        job = self._job
        if job is None:
            return None
        if job.refusal is not None:
            return JobRefused(job.refusal)
        if not job.confirmed or job.paper is None:
            return None
        paper = decode_paper_status(job.paper)
        if paper.state is PrinterState.NO_PAPER:
            return JobRefused(PrinterStatus(PrinterState.NO_PAPER, "paper end reported with the job's confirmation"))
        return JobConfirmed(paper)

    def take_noise(self) -> list[str]:
        """What arrived outside a job that nothing explains, since the last call."""
        noise, self._noise = self._noise, []
        return noise

    # --- what each answer means -----------------------------------------------------------------

    def _take(self, answer: Answer) -> None:
        match answer:
            case FlowControl():
                self.paused = not answer.resume
            case RealTimeStatus():
                self._status_answer(answer.value)
            case PaperStatus():
                job = self._job
                if job is not None and job.confirmed and job.paper is None and job.refusal is None:
                    job.paper = answer.value
                else:
                    self._unexpected(f"stray byte {_shown(answer.raw)}")
            case Response():
                self._response(answer)
            case AutomaticStatus():
                status = decode_automatic_status(answer.raw)
                if self._job is not None and not status.can_print:
                    self._refuse(status)
                else:
                    self._unexpected(f"unsolicited automatic status {_shown(answer.raw)} ({status.state.value})")
            case Unexpected():
                self._unexpected(f"{answer.reason}: {_shown(answer.raw)}")
            case _:
                assert_never(answer)

    def _status_answer(self, value: int) -> None:
        if not self._waiting:
            self._unexpected(f"status byte nobody asked for: {value:02x}")
            return
        request = self._waiting.popleft()
        if request.wanted:
            self._answers[request.sequence] = value

    def _response(self, response: Response) -> None:
        raw = response.raw
        job = self._job
        if raw == commands.CLEAR_RESPONSE and self._clear_requested:
            self._clear_requested, self._clear_acknowledged = False, True
        elif job is not None and raw == job.response and not job.confirmed:
            job.confirmed = True
        else:
            self._unexpected(f"response that is not this job's: {_shown(raw)}")

    def _unexpected(self, what: str) -> None:
        if self._job is None:
            self._noise.append(what)
        else:
            self._refuse(PrinterStatus(PrinterState.UNCONFIRMED, f"printer sent {what} during the job"))

    def _refuse(self, status: PrinterStatus) -> None:
        job = self._job
        if job is not None and job.refusal is None:
            job.refusal = status
