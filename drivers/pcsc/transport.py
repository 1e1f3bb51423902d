"""APDU transport over any raw link: 61xx GET RESPONSE, 6Cxx re-issue, chunked READ BINARY, counters, budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hal.apdu import (
    EXTENDED_MAX_LE,
    SHORT_MAX_LE,
    CommandApdu,
    ResponseApdu,
    StatusKind,
    classify,
    parse_response,
)
from hal.link_errors import LinkError, LinkProblem
from hal.read_budget import ReadBudget

Transmit = Callable[[bytes], bytes | LinkError]

INS_READ_BINARY = 0xB0
INS_GET_RESPONSE = 0xC0
MAX_OFFSET = 0x7FFF
_MAX_GET_RESPONSES = 300


@dataclass
class LinkCounters:
    """What crossed the link: APDUs, command bytes and response bytes (for benches and health)."""

    apdus: int = 0
    sent: int = 0
    received: int = 0


class ApduTransport:
    """Exchanges commands over `transmit`, following the card's status words; never raises on card data.
    With a `budget`, every APDU is charged to it and none is sent once its deadline or APDU cap is reached."""

    def __init__(
        self,
        transmit: Transmit,
        extended: bool,
        counters: LinkCounters | None = None,
        budget: ReadBudget | None = None,
    ) -> None:
        self._transmit = transmit
        self.extended = extended
        self.counters = counters if counters is not None else LinkCounters()
        self.budget = budget

    @property
    def max_le(self) -> int:
        return EXTENDED_MAX_LE if self.extended else SHORT_MAX_LE

    def exchange(self, command: CommandApdu) -> ResponseApdu | LinkError:
        """Send one command; collect 61xx continuations; re-issue once on 6Cxx with the exact Le."""
        first = self._send(command)
        if isinstance(first, LinkError):
            return first
        response = first
        if classify(response.sw) is StatusKind.WRONG_LE:
            retried = self._send(command.with_le(response.sw2 or SHORT_MAX_LE))
            if isinstance(retried, LinkError):
                return retried
            if classify(retried.sw) is StatusKind.WRONG_LE:
                return LinkError(LinkProblem.MALFORMED_RESPONSE, "card asked twice for another Le", retried.sw)
            response = retried
        data = response.data
        for _ in range(_MAX_GET_RESPONSES):
            if classify(response.sw) is not StatusKind.MORE_DATA:
                return ResponseApdu(data, response.sw)
            more = self._send(CommandApdu(0x00, INS_GET_RESPONSE, 0, 0, le=response.sw2 or SHORT_MAX_LE))
            if isinstance(more, LinkError):
                return more
            response = more
            data += more.data
        return LinkError(LinkProblem.MALFORMED_RESPONSE, "card never stopped answering 61xx")

    def read_available(self, offset: int) -> bytes | LinkError:
        """One READ BINARY with the largest Le: whatever the file holds from `offset`, up to that much."""
        if offset > MAX_OFFSET:
            return LinkError(LinkProblem.MALFORMED_RESPONSE, f"offset {offset} beyond READ BINARY range")
        response = self.exchange(CommandApdu(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=self.max_le))
        if isinstance(response, LinkError):
            return response
        if classify(response.sw) not in (StatusKind.OK, StatusKind.END_OF_FILE) or not response.data:
            return LinkError(LinkProblem.STATUS, f"READ BINARY at {offset}", response.sw)
        if len(response.data) > self.max_le:
            return LinkError(LinkProblem.MALFORMED_RESPONSE, f"card sent {len(response.data)} bytes")
        return response.data

    def read_binary(self, offset: int, length: int) -> bytes | LinkError:
        """Read `length` bytes of the selected file from `offset`, with the largest Le the card allows."""
        chunks: list[bytes] = []
        position = offset
        end = offset + length
        while position < end:
            if position > MAX_OFFSET:
                return LinkError(LinkProblem.MALFORMED_RESPONSE, f"offset {position} beyond READ BINARY range")
            want = min(self.max_le, end - position)
            response = self.exchange(
                CommandApdu(0x00, INS_READ_BINARY, position >> 8, position & 0xFF, le=want)
            )
            if isinstance(response, LinkError):
                return response
            kind = classify(response.sw)
            if kind not in (StatusKind.OK, StatusKind.END_OF_FILE) or not response.data:
                return LinkError(LinkProblem.STATUS, f"READ BINARY at {position}", response.sw)
            if len(response.data) > want:
                return LinkError(LinkProblem.MALFORMED_RESPONSE, f"card sent {len(response.data)} > {want} bytes")
            chunks.append(response.data)
            position += len(response.data)
            if kind is StatusKind.END_OF_FILE and position < end:
                return LinkError(LinkProblem.STATUS, f"file ends at {position}", response.sw)
        return b"".join(chunks)

    def _send(self, command: CommandApdu) -> ResponseApdu | LinkError:
        try:
            raw_command = command.encode(self.extended if command.needs_extended() else False)
        except ValueError as exc:
            return LinkError(LinkProblem.TRANSPORT, f"cannot encode command: {exc}")
        if self.budget is not None:
            refused = self.budget.spend_apdu()
            if refused is not None:
                return refused
        self.counters.apdus += 1
        self.counters.sent += len(raw_command)
        raw = self._transmit(raw_command)
        if isinstance(raw, LinkError):
            return raw
        self.counters.received += len(raw)
        return parse_response(raw)
