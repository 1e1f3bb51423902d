"""In-process device fakes for fast tests and the demo: a slip printer that logs to a file, a scripted reader."""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.escpos.status import StatusBytes, decode_status
from firmware_app.flow import texts
from firmware_app.flow.notices import Notice
from firmware_app.identity.document import CardEvent, Document, DocumentRefusal
from hal.indicators import Signal
from hal.printer import (
    PrintDocument,
    Printed,
    PrinterState,
    PrinterStatus,
    PrintFailed,
    PrintResult,
    PrintStage,
    QrCode,
    TextLine,
)


@dataclass(frozen=True)
class PrintedJob:
    """One job as the logging printer saw it; `complete` is False when it stopped mid-slip."""

    title: str
    qr: tuple[str, ...]
    text: tuple[str, ...]
    complete: bool


_READY_BYTE = 0x12
"""A DLE EOT answer with no condition bit set."""

_ANSWERS_IN: dict[PrinterState, StatusBytes] = {
    PrinterState.NO_PAPER: StatusBytes(_READY_BYTE, _READY_BYTE, _READY_BYTE, _READY_BYTE | 0x60),
    PrinterState.COVER_OPEN: StatusBytes(_READY_BYTE, _READY_BYTE | 0x04, _READY_BYTE, _READY_BYTE),
    PrinterState.ERROR: StatusBytes(_READY_BYTE, _READY_BYTE, _READY_BYTE | 0x20, _READY_BYTE),
    PrinterState.OFFLINE: StatusBytes(_READY_BYTE | 0x08, _READY_BYTE, _READY_BYTE, _READY_BYTE),
}
"""The DLE EOT 1-4 answers of a printer in each state the fake can be failed into."""


class LoggingPrinter:
    """A printer whose output is a JSON line per job in a file, fsynced, so it survives a killed terminal."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._lock = threading.Lock()
        self._status = PrinterStatus(PrinterState.READY)
        self._fail_next: PrintStage | None = None
        self._failure = self._status
        self._hold: threading.Event | None = None
        self.holding = threading.Event()
        """Set while a held job waits for `release`."""

    # test handle
    def fail_next(self, stage: PrintStage, state: PrinterState = PrinterState.NO_PAPER) -> None:
        """BEFORE: the printer is already out of order; DURING: it fails in the middle of the next job. The status
        is what the ESC/POS driver decodes from the bytes a printer in that state answers."""
        with self._lock:
            self._fail_next = stage
            self._failure = decode_status(_ANSWERS_IN[state])
            if stage is PrintStage.BEFORE:
                self._status = self._failure

    def hold_next(self) -> None:
        """The next job waits, as a slow printer's does, until `release` (at most a minute)."""
        with self._lock:
            self._hold = threading.Event()

    def release(self) -> None:
        with self._lock:
            hold, self._hold = self._hold, None
        if hold is not None:
            hold.set()

    def fix(self) -> None:
        with self._lock:
            self._status = PrinterStatus(PrinterState.READY)

    def jobs(self) -> list[PrintedJob]:
        if not self.log_path.exists():
            return []
        lines = [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        return [PrintedJob(j["title"], tuple(j["qr"]), tuple(j["text"]), j["complete"]) for j in lines]

    # Printer protocol
    def status(self) -> PrinterStatus:
        with self._lock:
            return self._status

    def print_document(self, document: PrintDocument) -> PrintResult:
        with self._lock:
            hold = self._hold
        if hold is not None:
            self.holding.set()
            hold.wait(timeout=60)
            self.holding.clear()
        with self._lock:
            failing, self._fail_next = self._fail_next, None
            status = self._status
            if failing is PrintStage.DURING:
                self._status = status = self._failure
        if failing is PrintStage.BEFORE or (failing is None and not status.can_print):
            return PrintFailed(PrintStage.BEFORE, status)
        record = {
            "title": document.title,
            "qr": [e.data for e in document.elements if isinstance(e, QrCode)],
            "text": [e.text for e in document.elements if isinstance(e, TextLine)],
            "complete": failing is None,
        }
        with self.log_path.open("a") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        if failing is PrintStage.DURING:
            return PrintFailed(PrintStage.DURING, status)
        return Printed(status)

    def close(self) -> None:
        return None


class ScriptedReader:
    """A card reader whose cards are queued by the test: insert a document (or a refusal), pull the card."""

    def __init__(self) -> None:
        self._cards: queue.Queue[Document | DocumentRefusal] = queue.Queue()
        self._notify: Callable[[CardEvent], None] | None = None

    def insert(self, card: Document | DocumentRefusal) -> None:
        self._cards.put(card)
        if self._notify is not None:
            self._notify(CardEvent.INSERTED)

    def pull(self) -> None:
        if self._notify is not None:
            self._notify(CardEvent.REMOVED)

    def start(self, notify: Callable[[CardEvent], None]) -> None:
        """Like a real reader, a card already in the slot is reported as inserted when watching starts."""
        self._notify = notify
        if not self._cards.empty():
            notify(CardEvent.INSERTED)

    def read(self) -> Document | DocumentRefusal:
        return self._cards.get(timeout=5)

    def close(self) -> None:
        self._notify = None


class RecordingDisplay:
    """Remembers every notice, and its Persian as the operator would read it."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.notices: list[Notice] = []
        self.messages: list[str] = []
        self._echo = echo

    def show(self, notice: Notice) -> None:
        message = texts.render(notice)
        self.notices.append(notice)
        self.messages.append(message)
        if self._echo is not None:
            self._echo(message)


class RecordingIndicators:
    """Lights and buzzer that only remember what they were told to show."""

    def __init__(self) -> None:
        self.patterns: list[Signal] = []

    def show(self, pattern: Signal) -> None:
        self.patterns.append(pattern)

    def close(self) -> None:
        return None
