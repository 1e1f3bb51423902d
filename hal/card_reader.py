"""Card reader interface: reader status and events as values, card sessions exchanging APDUs within a read
budget. The PC/SC backend (`drivers.pcsc.reader`) is opened by `hal.backends`."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hal.apdu import CommandApdu, ResponseApdu
from hal.link_errors import LinkError, LinkProblem
from hal.read_budget import ReadBudget, ReadLimits

__all__ = [
    "CardLink",
    "CardReader",
    "CardReaderStatus",
    "CardSession",
    "CommandApdu",
    "LinkError",
    "LinkProblem",
    "ReadBudget",
    "ReadLimits",
    "ReaderEvent",
    "ReaderState",
    "ResponseApdu",
]


class ReaderState(enum.StrEnum):
    CARD_PRESENT = "card_present"
    NO_CARD = "no_card"
    NO_READER = "no_reader"
    NO_SERVICE = "no_service"


class ReaderEvent(enum.StrEnum):
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"
    READER_GONE = "reader_gone"
    READER_BACK = "reader_back"
    SERVICE_GONE = "service_gone"
    SERVICE_BACK = "service_back"


@dataclass(frozen=True)
class CardReaderStatus:
    state: ReaderState
    reader: str = ""
    detail: str = ""


class CardLink(Protocol):
    """A raw connection to one card: command bytes in, response bytes (or a typed error) out."""

    @property
    def atr(self) -> bytes: ...

    def transmit(self, command: bytes) -> bytes | LinkError: ...

    def disconnect(self) -> None: ...


class CardSession(Protocol):
    """APDU exchanges with one card, status words followed, every APDU charged to the read's budget."""

    def exchange(self, command: CommandApdu) -> ResponseApdu | LinkError: ...

    def read_available(self, offset: int) -> bytes | LinkError: ...

    def read_binary(self, offset: int, length: int) -> bytes | LinkError: ...

    def close(self) -> None: ...


class CardReader(Protocol):
    """One card reader slot. `watch` posts events from a device thread; `connect` blocks, within `budget`
    (a fresh default one if None), which the session then goes on spending."""

    def status(self) -> CardReaderStatus: ...

    def watch(self, notify: Callable[[ReaderEvent], None]) -> None: ...

    def connect(self, budget: ReadBudget | None = None) -> CardSession | LinkError: ...

    def close(self) -> None: ...
