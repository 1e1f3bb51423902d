"""A card session over any CardLink: APDUs through the ISO 7816 transport, on the reader's card thread,
within the read's budget. Implements `hal.card_reader.CardSession`."""

from __future__ import annotations

from drivers.pcsc.atr import Atr, parse_atr
from drivers.pcsc.card_io import Abandoned, CardIo
from drivers.pcsc.transport import ApduTransport, LinkCounters
from hal.card_reader import CardLink, CommandApdu, LinkError, ReadBudget, ResponseApdu


class LinkSession:
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


