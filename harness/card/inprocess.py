"""An in-process card reader slot implementing the HAL CardReader, for fast tests without pcscd."""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.pcsc.card_io import CardIo
from drivers.pcsc.session import LinkSession
from hal.card_reader import (
    CardReaderStatus,
    CardSession,
    LinkError,
    LinkProblem,
    ReadBudget,
    ReaderEvent,
    ReaderState,
)
from harness.card.chip import VirtualChip


class InProcessReader:
    """A reader slot whose card the test inserts and pulls; events are posted synchronously. Exchanges run on
    a card thread of its own, as with PC/SC, so a silent chip holds the slot until it is pulled."""

    name = "in-process slot"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chip: VirtualChip | None = None
        self._notify: Callable[[ReaderEvent], None] | None = None
        self.io = CardIo("in-process-card-io")

    def insert(self, chip: VirtualChip) -> None:
        with self._lock:
            self._chip = chip
            chip.reset()
            chip.plugged()
        self._post(ReaderEvent.CARD_INSERTED)

    def pull(self) -> None:
        with self._lock:
            chip, self._chip = self._chip, None
        if chip is not None:
            chip.unplugged()
            self._post(ReaderEvent.CARD_REMOVED)

    def status(self) -> CardReaderStatus:
        with self._lock:
            present = self._chip is not None
        return CardReaderStatus(ReaderState.CARD_PRESENT if present else ReaderState.NO_CARD, self.name)

    def watch(self, notify: Callable[[ReaderEvent], None]) -> None:
        self._notify = notify

    def connect(self, budget: ReadBudget | None = None) -> CardSession | LinkError:
        budget = budget if budget is not None else ReadBudget()
        with self._lock:
            chip = self._chip
        if chip is None:
            return LinkError(LinkProblem.NO_CARD, "no card in the in-process slot")
        if not self.io.wait_idle(budget.remaining()):
            return budget.timed_out("the slot is still held by a card that stopped answering")
        return LinkSession(_Link(self, chip), budget=budget, io=self.io)

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
        frame = chip.frame(response)
        if len(frame) == 2 or int.from_bytes(frame[:2], "big") != len(frame) - 2:
            chip.wait_unplugged()  # like vpcd, the slot waits for frame bytes that never come
            return LinkError(LinkProblem.CARD_REMOVED, "card pulled during a broken frame")
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
