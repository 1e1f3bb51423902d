"""An ESC/POS printer on a serial line: status before, the job, proof of completion, status after."""

from __future__ import annotations

import contextlib
import threading
import time

import serial

from drivers.escpos import commands
from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import PrinterProfile
from drivers.escpos.status import StatusBytes, decode_status, is_barrier_byte, is_status_byte
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


def transfer_seconds(byte_count: int, baud_rate: int) -> float:
    """How long the line needs to carry `byte_count` bytes."""
    return byte_count * BITS_PER_BYTE_ON_LINE / baud_rate


class SerialPrinter:
    """Implements hal.printer.Printer. Opens the port lazily and again after a disconnection."""

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
        self._barrier_seen = False
        self._lock = threading.RLock()

    @property
    def profile(self) -> PrinterProfile:
        return self._profile

    def status(self) -> PrinterStatus:
        """Ask DLE EOT 1..4. No port or no answer is DISCONNECTED; never raises for device trouble."""
        with self._lock:
            port = self._open()
            if isinstance(port, PrinterStatus):
                return port
            answers: list[int] = []
            try:
                self._drain(port)
                for kind in commands.StatusRequest:
                    answer = self._query(port, kind)
                    if answer is None:
                        return PrinterStatus(PrinterState.DISCONNECTED, f"no answer to DLE EOT {int(kind)}")
                    answers.append(answer)
            except (serial.SerialException, OSError) as exc:
                self._drop(port)
                return PrinterStatus(PrinterState.DISCONNECTED, f"serial line failed: {exc}")
            printer, offline_cause, error_cause, paper_sensor = answers
            return decode_status(StatusBytes(printer, offline_cause, error_cause, paper_sensor))

    def print_document(self, document: PrintDocument) -> PrintResult:
        """Printed only when the printer has worked through the whole job and is still printable."""
        job = encode_document(document, self._profile) + commands.COMPLETION_BARRIER
        with self._lock:
            before = self.status()
            if not before.can_print:
                return PrintFailed(PrintStage.BEFORE, before)
            port = self._open()
            if isinstance(port, PrinterStatus):
                return PrintFailed(PrintStage.BEFORE, port)
            try:
                port.reset_input_buffer()
                self._barrier_seen = False
                port.write(job)
                port.flush()
            except (serial.SerialException, OSError) as exc:
                self._drop(port)
                return PrintFailed(PrintStage.DURING, PrinterStatus(PrinterState.DISCONNECTED, f"write failed: {exc}"))
            return self._await_completion(port, transfer_seconds(len(job), self._profile.baud_rate))

    def close(self) -> None:
        with self._lock:
            if self._port is not None:
                self._drop(self._port)

    def _await_completion(self, port: serial.Serial, line_seconds: float) -> PrintResult:
        """Wait for the barrier's answer. Silence alone is not failure yet: a busy printer holds the line."""
        try:
            if self._read_barrier(port, line_seconds * 1.1 + 0.1):
                return self._after()
            deadline = time.monotonic() + self._print_allowance_s
            while True:
                status = self.status()
                if self._barrier_seen:
                    return self._after()
                silent = status.state is PrinterState.DISCONNECTED
                if not status.can_print and not silent:
                    return PrintFailed(PrintStage.DURING, self._cleared(port, status))
                if time.monotonic() > deadline:
                    stuck = status if silent else PrinterStatus(PrinterState.ERROR, "job not completed in time")
                    return PrintFailed(PrintStage.DURING, self._cleared(port, stuck))
                if self._read_barrier(port, self._poll_interval_s):
                    return self._after()
        except (serial.SerialException, OSError) as exc:
            self._drop(port)
            return PrintFailed(PrintStage.DURING, PrinterStatus(PrinterState.DISCONNECTED, f"serial line failed: {exc}"))

    def _after(self) -> PrintResult:
        after = self.status()
        return Printed(after) if after.can_print else PrintFailed(PrintStage.DURING, after)

    def _read_barrier(self, port: serial.Serial, seconds: float) -> bool:
        """Read answers for up to `seconds`; True once the completion barrier's answer has arrived."""
        deadline = time.monotonic() + seconds
        while not self._barrier_seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            port.timeout = remaining
            data: bytes = port.read(1)
            if data and is_barrier_byte(data[0]):
                self._barrier_seen = True
        return True

    def _drain(self, port: serial.Serial) -> None:
        """Discard late answers to earlier requests, keeping note of a completion barrier among them."""
        while waiting := port.in_waiting:
            late: bytes = port.read(waiting)
            if any(is_barrier_byte(value) for value in late):
                self._barrier_seen = True

    def _query(self, port: serial.Serial, kind: commands.StatusRequest) -> int | None:
        port.write(commands.status_request(kind))
        deadline = time.monotonic() + self._answer_timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            port.timeout = remaining
            data: bytes = port.read(1)
            if not data:
                return None
            if is_status_byte(data[0]) or not is_barrier_byte(data[0]):
                return data[0]
            self._barrier_seen = True
        return None

    def _cleared(self, port: serial.Serial, status: PrinterStatus) -> PrinterStatus:
        """Drop the unprinted rest of a failed job so it cannot come out when the printer is fixed."""
        try:
            port.reset_input_buffer()
            port.write(commands.CLEAR_BUFFERS)
            port.timeout = self._answer_timeout_s
            acknowledged = port.read(len(commands.CLEAR_RESPONSE)) == commands.CLEAR_RESPONSE
        except (serial.SerialException, OSError):
            self._drop(port)
            acknowledged = False
        if acknowledged:
            return status
        suffix = "unprinted rest of the job may still be in the printer"
        return PrinterStatus(status.state, f"{status.detail}; {suffix}" if status.detail else suffix)

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
        except (serial.SerialException, OSError) as exc:
            return PrinterStatus(PrinterState.DISCONNECTED, f"cannot open {self._device}: {exc}")
        return self._port

    def _drop(self, port: serial.Serial) -> None:
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()
        self._port = None
