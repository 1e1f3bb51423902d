"""An ESC/POS printer on a serial line: status before, the job under flow control, its confirmation, status after."""

from __future__ import annotations

import contextlib
import secrets
import termios
import threading
import time
from collections.abc import Callable

import serial

from drivers.escpos import commands
from drivers.escpos.encoder import EncodedJob, encode_job
from drivers.escpos.exchange import Exchange, JobConfirmed, JobRefused
from drivers.escpos.profiles import PrinterProfile
from drivers.escpos.status import StatusBytes, decode_status
from hal.printer import (
    PrintDocument,
    Printed,
    PrinterState,
    PrinterStatus,
    PrintFailed,
    PrintResult,
    PrintStage,
)

BITS_PER_BYTE_ON_LINE = 10
"""8N1 framing: start bit, eight data bits, stop bit."""

CHUNK_BYTES = 256
"""The job goes out in pieces this size, each drained from the UART before the next, so an XOFF is
obeyed within one piece."""

NOISY_ROUNDS_TOLERATED = 1
"""A stray byte between jobs (a printer's power-up 00) costs one repeated status round, not a refusal."""

LINE_ERRORS = (serial.SerialException, OSError, termios.error)
"""What a failing or hung-up line raises through pyserial (tcflush and tcdrain raise termios.error)."""


def transfer_seconds(byte_count: int, baud_rate: int) -> float:
    """How long the line needs to carry `byte_count` bytes."""
    return byte_count * BITS_PER_BYTE_ON_LINE / baud_rate


class SerialPrinter:
    """Implements hal.printer.Printer. Opens the port lazily and again after a disconnection.

    No exception from the line leaves this class: device trouble is a status value."""

    def __init__(
        self,
        device: str,
        profile: PrinterProfile,
        *,
        answer_timeout_s: float = 0.5,
        poll_interval_s: float = 0.2,
        print_allowance_s: float = 10.0,
    ) -> None:
        self._device = device
        self._profile = profile
        self._answer_timeout_s = answer_timeout_s
        self._poll_interval_s = poll_interval_s
        self._print_allowance_s = print_allowance_s
        self._port: serial.Serial | None = None
        self._exchange = Exchange(profile.confirmation)
        self._job_line_s = 0.0
        self._job_sent = False
        self._last_job_id = b""
        self._lock = threading.RLock()

    @property
    def profile(self) -> PrinterProfile:
        return self._profile

    def status(self) -> PrinterStatus:
        """Ask DLE EOT 1..4. No port or no answer is DISCONNECTED; never raises for device trouble."""
        with self._lock:
            try:
                return self._status_round()
            except LINE_ERRORS as exc:
                self._drop()
                return PrinterStatus(PrinterState.DISCONNECTED, f"serial line failed: {exc}")

    def print_document(self, document: PrintDocument) -> PrintResult:
        """Printed only when the printer confirmed this very job, said nothing unexpected, and is printable."""
        body = encode_job(document, self._profile)
        with self._lock:
            self._job_sent = False
            try:
                return self._print(body)
            except LINE_ERRORS as exc:
                self._drop()
                stage = PrintStage.DURING if self._job_sent else PrintStage.BEFORE
                detail = f"serial line failed: {exc}"
                if self._job_sent:
                    detail += "; unprinted rest of the job may still be in the printer"
                return PrintFailed(stage, PrinterStatus(PrinterState.DISCONNECTED, detail))
            finally:
                self._exchange.end_job()
                self._job_line_s = 0.0

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- one job ---------------------------------------------------------------------------------

    def _print(self, body: EncodedJob) -> PrintResult:
        before = self._status_round()
        if not before.can_print:
            return PrintFailed(PrintStage.BEFORE, before)
        port = self._open()
        if isinstance(port, PrinterStatus):
            return PrintFailed(PrintStage.BEFORE, port)
        job_id = self._new_job_id()
        data = body.data + self._profile.confirmation.requests(job_id)
        job = EncodedJob(data, (*body.boundaries, len(data)))
        self._job_line_s = transfer_seconds(len(data), self._profile.baud_rate)
        start = time.monotonic()
        first_look = start + self._job_line_s * 1.1 + 0.1
        deadline = first_look + self._print_allowance_s
        self._exchange.start_job(job_id)
        failure = self._send(port, job, deadline)
        if failure is not None:
            return failure
        return self._await_confirmation(port, job_id, first_look, deadline)

    def _send(self, port: serial.Serial, job: EncodedJob, deadline: float) -> PrintFailed | None:
        """Write the job piece by piece, holding while the printer has said XOFF. A job refused on the way
        stops at the end of the element in progress, never inside a command."""
        exchange = self._exchange
        for offset in range(0, len(job.data), CHUNK_BYTES):
            self._take(port)
            if exchange.paused:
                self._read(port, deadline - time.monotonic(),
                           lambda: not exchange.paused or exchange.job_verdict() is not None)
            verdict = exchange.job_verdict()
            if isinstance(verdict, JobRefused):
                if self._job_sent:
                    port.write(job.data[offset : job.next_boundary(offset)])
                    port.flush()
                return self._failed(port, verdict.status)
            if exchange.paused:
                return self._failed(port, PrinterStatus(PrinterState.ERROR, "printer held the line (XOFF) too long"))
            self._job_sent = True
            port.write(job.data[offset : offset + CHUNK_BYTES])
            port.flush()
        return None

    def _await_confirmation(self, port: serial.Serial, job_id: bytes, first_look: float, deadline: float) -> PrintResult:
        """Wait for this job's confirmation. Silence alone is not failure yet: a busy printer holds the line."""
        exchange = self._exchange

        def settled() -> bool:
            return exchange.job_verdict() is not None

        self._read(port, first_look - time.monotonic(), settled)
        last = PrinterStatus(PrinterState.READY)
        while not settled():
            if time.monotonic() > deadline:
                silent = last.state is PrinterState.DISCONNECTED
                stuck = last if silent else PrinterStatus(
                    PrinterState.UNCONFIRMED, f"printer did not confirm job {job_id.decode()} in time")
                return self._failed(port, stuck)
            last = self._status_round()
            if settled():
                break
            if not last.can_print and last.state is not PrinterState.DISCONNECTED:
                return self._failed(port, last)
            self._read(port, self._poll_interval_s, settled)
        if isinstance(refused := exchange.job_verdict(), JobRefused):
            return self._failed(port, refused.status)
        after = self._status_round()
        match exchange.job_verdict():
            case JobConfirmed():
                return Printed(after) if after.can_print else PrintFailed(PrintStage.DURING, after)
            case JobRefused(status=status):
                return self._failed(port, status)
            case None:
                return self._failed(port, PrinterStatus(PrinterState.UNCONFIRMED, "confirmation lost"))

    def _failed(self, port: serial.Serial, status: PrinterStatus) -> PrintFailed:
        if not self._job_sent:
            return PrintFailed(PrintStage.BEFORE, status)
        return PrintFailed(PrintStage.DURING, self._cleared(port, status))

    def _cleared(self, port: serial.Serial, status: PrinterStatus) -> PrinterStatus:
        """Drop the unprinted rest of a failed job so it cannot come out when the printer is fixed."""
        exchange = self._exchange
        try:
            self._take(port)
            exchange.sent_clear()
            port.write(commands.CLEAR_BUFFERS)
            self._read(port, self._answer_timeout_s, lambda: exchange.clear_acknowledged)
            acknowledged = exchange.clear_acknowledged
        except LINE_ERRORS:
            self._drop()
            acknowledged = False
        if acknowledged:
            return status
        suffix = "unprinted rest of the job may still be in the printer"
        return PrinterStatus(status.state, f"{status.detail}; {suffix}" if status.detail else suffix)

    def _new_job_id(self) -> bytes:
        confirmation = self._profile.confirmation
        while True:
            job_id = bytes(secrets.choice(confirmation.id_alphabet) for _ in range(confirmation.id_length))
            if job_id != self._last_job_id:
                self._last_job_id = job_id
                return job_id

    # --- status ----------------------------------------------------------------------------------

    def _status_round(self) -> PrinterStatus:
        """DLE EOT 1..4 on a settled line; a round that unexplained bytes crossed is asked once more, and
        if that one is crossed too the line is in ERROR. Raises LINE_ERRORS; callers turn them into values."""
        port = self._open()
        if isinstance(port, PrinterStatus):
            return port
        noise: list[str] = []
        for _ in range(NOISY_ROUNDS_TOLERATED + 1):
            self._settle(port)
            self._exchange.take_noise()
            answers: list[int] = []
            for kind in commands.StatusRequest:
                answer = self._ask(port, kind)
                if answer is None:
                    return PrinterStatus(PrinterState.DISCONNECTED, f"no answer to DLE EOT {int(kind)}")
                answers.append(answer)
            if not (noise := self._exchange.take_noise()):
                printer, offline_cause, error_cause, paper_sensor = answers
                return decode_status(StatusBytes(printer, offline_cause, error_cause, paper_sensor))
        return PrinterStatus(PrinterState.ERROR, f"unexpected bytes from the printer: {'; '.join(noise)}")

    def _ask(self, port: serial.Serial, kind: commands.StatusRequest) -> int | None:
        exchange = self._exchange
        lifetime = 2 * self._answer_timeout_s + self._job_line_s
        sequence = exchange.sent_status_request(time.monotonic() + lifetime)
        port.write(commands.status_request(kind))
        self._read(port, self._answer_timeout_s, lambda: exchange.has_answer(sequence))
        answer = exchange.answer(sequence)
        if answer is None:
            exchange.abandon(sequence)
        return answer

    def _settle(self, port: serial.Serial) -> None:
        """Take what is waiting, and let late answers to earlier requests arrive (or expire) first, so that
        no answer is taken for the wrong request."""
        exchange = self._exchange
        self._take(port)
        while (expiry := exchange.next_expiry()) is not None:
            now = time.monotonic()
            if now >= expiry:
                exchange.expire(now)
                continue
            self._read(port, expiry - now, lambda: exchange.next_expiry() is None)

    # --- bytes -----------------------------------------------------------------------------------

    def _take(self, port: serial.Serial) -> None:
        """Everything already received, without waiting."""
        while waiting := port.in_waiting:
            self._exchange.receive(port.read(waiting))

    def _read(self, port: serial.Serial, seconds: float, done: Callable[[], bool]) -> None:
        """Receive for up to `seconds`, returning as soon as `done()`."""
        deadline = time.monotonic() + seconds
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            port.timeout = remaining
            data: bytes = port.read(max(1, port.in_waiting))
            if data:
                self._exchange.receive(data)

    def _open(self) -> serial.Serial | PrinterStatus:
        if self._port is not None:
            return self._port
        try:
            self._port = serial.Serial(
                self._device,
                baudrate=self._profile.baud_rate,
                timeout=self._answer_timeout_s,
                write_timeout=self._print_allowance_s,
                exclusive=True,
            )
        except LINE_ERRORS as exc:
            return PrinterStatus(PrinterState.DISCONNECTED, f"cannot open {self._device}: {exc}")
        self._exchange = Exchange(self._profile.confirmation)
        return self._port

    def _drop(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(*LINE_ERRORS):
                port.close()
