"""An in-process card reader slot implementing the HAL CardReader, for fast tests without pcscd."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hal.card_reader import (
    CardReaderStatus,
    CardSession,
    LinkError,
    LinkProblem,
    ReaderEvent,
    ReaderState,
)
from harness.card.chip import VirtualChip


class InProcessReader:
    """A reader slot whose card the test inserts and pulls; events are posted synchronously."""

    name = "in-process slot"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chip: VirtualChip | None = None
        self._notify: Callable[[ReaderEvent], None] | None = None

    def insert(self, chip: VirtualChip) -> None:
        with self._lock:
            self._chip = chip
            chip.reset()
        self._post(ReaderEvent.CARD_INSERTED)

    def pull(self) -> None:
        with self._lock:
            had_card, self._chip = self._chip is not None, None
        if had_card:
            self._post(ReaderEvent.CARD_REMOVED)

    def status(self) -> CardReaderStatus:
        with self._lock:
            present = self._chip is not None
        return CardReaderStatus(ReaderState.CARD_PRESENT if present else ReaderState.NO_CARD, self.name)

    def watch(self, notify: Callable[[ReaderEvent], None]) -> None:
        self._notify = notify

    def connect(self) -> CardSession | LinkError:
        with self._lock:
            chip = self._chip
        if chip is None:
            return LinkError(LinkProblem.NO_CARD, "no card in the in-process slot")
        return CardSession(_Link(self, chip))

    def close(self) -> None:
        self._notify = None

    def _transmit(self, chip: VirtualChip, command: bytes) -> bytes | LinkError:
        with self._lock:
            inserted = self._chip is chip
        if not inserted:
            return LinkError(LinkProblem.CARD_REMOVED, "card pulled")
        response = chip.respond(command)
        if response is None:
            self.pull()
            return LinkError(LinkProblem.CARD_REMOVED, "card pulled during the exchange")
        return response

    def _post(self, event: ReaderEvent) -> None:
        notify = self._notify
        if notify is not None:
            notify(event)


class _Link:
    def __init__(self, reader: InProcessReader, chip: VirtualChip) -> None:
        self._reader = reader
        self._chip = chip

    @property
    def atr(self) -> bytes:
        return self._chip.atr

    def transmit(self, command: bytes) -> bytes | LinkError:
        return self._reader._transmit(self._chip, command)

    def disconnect(self) -> None:
        """Nothing to release in process."""
