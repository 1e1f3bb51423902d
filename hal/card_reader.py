"""Card reader interface: reader status as a value, card sessions exchanging APDUs within a read budget,
the PC/SC backend."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.pcsc import scard
from drivers.pcsc.apdu import CommandApdu, ResponseApdu
from drivers.pcsc.atr import Atr, parse_atr
from drivers.pcsc.budget import ReadBudget, ReadLimits
from drivers.pcsc.card_io import Abandoned, CardIo
from drivers.pcsc.errors import LinkError, LinkProblem
from drivers.pcsc.monitor import ReaderEvent, ReaderMonitor, choose_reader
from drivers.pcsc.transport import ApduTransport, LinkCounters

__all__ = [
    "CardIo",
    "CardLink",
    "CardReader",
    "CardReaderStatus",
    "CardSession",
    "CommandApdu",
    "LinkCounters",
    "LinkError",
    "LinkProblem",
    "PcscCardReader",
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


class CardSession:
    """Exchanges APDUs with one card, following status words; extended reads if the ATR offers them.

    Every APDU is charged to `budget`. With `io`, each exchange runs on that card thread and the session gives
    up on it at the budget's deadline: the exchange is then abandoned, every later one is refused as TIMED_OUT,
    and the link is released only when the abandoned exchange returns (the reader is busy until then)."""

    def __init__(
        self,
        link: CardLink,
        allow_extended: bool = True,
        budget: ReadBudget | None = None,
        io: CardIo | None = None,
    ) -> None:
        self._link = link
        self._io = io
        self.budget = budget if budget is not None else ReadBudget()
        self._given_up = False
        self._release_pending = False
        parsed = parse_atr(link.atr)
        self.atr: Atr | None = parsed if isinstance(parsed, Atr) else None
        extended = allow_extended and self.atr is not None and self.atr.extended_length
        self.counters = LinkCounters()
        self._transport = ApduTransport(self._transmit, extended, self.counters, self.budget)

    @property
    def extended(self) -> bool:
        return self._transport.extended

    def exchange(self, command: CommandApdu) -> ResponseApdu | LinkError:
        return self._transport.exchange(command)

    def read_available(self, offset: int) -> bytes | LinkError:
        return self._transport.read_available(offset)

    def read_binary(self, offset: int, length: int) -> bytes | LinkError:
        return self._transport.read_binary(offset, length)

    def close(self) -> None:
        """Release the link, unless an abandoned exchange still holds it (it is released when that returns)."""
        if not self._release_pending:
            self._link.disconnect()

    def _transmit(self, command: bytes) -> bytes | LinkError:
        if self._given_up:
            return self.budget.timed_out("the card stopped answering earlier in this read")
        if self._io is None:
            return self._link.transmit(command)
        answer = self._io.call(lambda: self._link.transmit(command), self.budget.remaining(), self._drop_late)
        if isinstance(answer, Abandoned):
            self._given_up = True
            self._release_pending = answer.started
            return self.budget.timed_out("the card did not answer" if answer.started else "the reader was busy")
        return answer

    def _drop_late(self, _answer: bytes | LinkError) -> None:
        """A late answer is dropped, never used; only now can the link be released."""
        self._link.disconnect()


class CardReader(Protocol):
    """One card reader slot. `watch` posts events from a device thread; `connect` blocks, within `budget`
    (a fresh default one if None), which the session then goes on spending."""

    def status(self) -> CardReaderStatus: ...

    def watch(self, notify: Callable[[ReaderEvent], None]) -> None: ...

    def connect(self, budget: ReadBudget | None = None) -> CardSession | LinkError: ...

    def close(self) -> None: ...


class _PcscLink:
    def __init__(self, context: int, handle: scard.CardHandle) -> None:
        self._context = context
        self._handle = handle

    @property
    def atr(self) -> bytes:
        return self._handle.atr

    def transmit(self, command: bytes) -> bytes | LinkError:
        return self._handle.transmit(command)

    def disconnect(self) -> None:
        self._handle.disconnect()
        scard.release(self._context)


class PcscCardReader:
    """The PC/SC backend: the first reader whose name starts with `reader` (any reader if None).

    Connecting and every exchange run on the reader's own card thread (`CardIo`), so a read ends at its
    deadline even when pcscd never returns from SCardTransmit; status and events use other contexts, which a
    stuck exchange does not block."""

    def __init__(self, reader: str | None = None, allow_extended: bool = True) -> None:
        self._wanted = reader
        self._allow_extended = allow_extended
        self._monitor: ReaderMonitor | None = None
        self._io = CardIo("pcsc-card-io")

    def status(self) -> CardReaderStatus:
        context = scard.establish()
        if isinstance(context, LinkError):
            return CardReaderStatus(ReaderState.NO_SERVICE, detail=context.detail)
        try:
            readers = scard.list_readers(context)
            if isinstance(readers, LinkError):
                return CardReaderStatus(_state_for(readers), detail=readers.detail)
            reader = choose_reader(readers, self._wanted)
            if reader is None:
                return CardReaderStatus(ReaderState.NO_READER)
            states = scard.get_status_change(context, 0, [(reader, 0)])
            if isinstance(states, LinkError):
                return CardReaderStatus(_state_for(states), reader, states.detail)
            present = states is not None and bool(states[0][1] & scard.STATE_PRESENT)
            held = "held by a card that stopped answering" if self._io.held_by_abandoned else ""
            return CardReaderStatus(ReaderState.CARD_PRESENT if present else ReaderState.NO_CARD, reader, held)
        finally:
            scard.release(context)

    def watch(self, notify: Callable[[ReaderEvent], None]) -> None:
        if self._monitor is not None:
            raise RuntimeError("this reader is already watched")
        self._monitor = ReaderMonitor(notify, self._wanted)
        self._monitor.start()

    def connect(self, budget: ReadBudget | None = None) -> CardSession | LinkError:
        budget = budget if budget is not None else ReadBudget()
        opened = self._io.call(self._open, budget.remaining(), _release_opened)
        if isinstance(opened, Abandoned):
            if opened.started:
                return budget.timed_out("connecting to the card")
            return budget.timed_out("the reader is still held by a card that stopped answering")
        if isinstance(opened, LinkError):
            return opened
        return CardSession(opened, self._allow_extended, budget, self._io)

    def _open(self) -> _PcscLink | LinkError:
        context = scard.establish()
        if isinstance(context, LinkError):
            return context
        readers = scard.list_readers(context)
        reader = None if isinstance(readers, LinkError) else choose_reader(readers, self._wanted)
        handle = scard.connect(context, reader) if reader is not None else None
        if isinstance(readers, LinkError) or handle is None or isinstance(handle, LinkError):
            scard.release(context)
            if isinstance(readers, LinkError):
                return readers
            return handle if isinstance(handle, LinkError) else LinkError(LinkProblem.NO_READER)
        return _PcscLink(context, handle)

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None


def _release_opened(opened: _PcscLink | LinkError) -> None:
    if isinstance(opened, _PcscLink):
        opened.disconnect()


def _state_for(error: LinkError) -> ReaderState:
    match error.problem:
        case LinkProblem.NO_SERVICE:
            return ReaderState.NO_SERVICE
        case LinkProblem.NO_READER:
            return ReaderState.NO_READER
        case _:
            return ReaderState.NO_CARD
