"""The PC/SC card reader backend (pyscard through pcscd); implements `hal.card_reader.CardReader`."""

from __future__ import annotations

from collections.abc import Callable

from drivers.pcsc import scard
from drivers.pcsc.card_io import Abandoned, CardIo
from drivers.pcsc.monitor import ReaderMonitor, choose_reader
from drivers.pcsc.session import LinkSession
from hal.card_reader import CardReaderStatus, LinkError, LinkProblem, ReadBudget, ReaderEvent, ReaderState


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

    def connect(self, budget: ReadBudget | None = None) -> LinkSession | LinkError:
        budget = budget if budget is not None else ReadBudget()
        opened = self._io.call(self._open, budget.remaining(), _release_opened)
        if isinstance(opened, Abandoned):
            if opened.started:
                return budget.timed_out("connecting to the card")
            return budget.timed_out("the reader is still held by a card that stopped answering")
        if isinstance(opened, LinkError):
            return opened
        return LinkSession(opened, self._allow_extended, budget, self._io)

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
