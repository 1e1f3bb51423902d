"""Split the bytes a printer sends into typed answers, strictly: every byte is accounted for, none is guessed.

The grammar (ESC/POS, printer to host):

- XON 11h / XOFF 13h: flow control, anywhere, even inside another answer (they fit no answer's shape);
- one byte shaped 0xx1xx10: an answer to DLE EOT n;
- one byte 0000xxxx: shaped like an answer to GS r 1;
- four bytes, the first 0xx1xx00 and the rest 0xx0xxxx: an automatic status (ASB) message;
- 37h, an identifier 20h..7Eh, up to 80 data bytes 20h..7Eh, NUL: a header-to-NUL response;
- anything else, and any frame broken off by a byte that does not fit it, is `Unexpected`.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.escpos import commands
from drivers.escpos.status import (
    AUTOMATIC_STATUS_LENGTH,
    is_automatic_status_continuation,
    is_automatic_status_start,
    is_paper_status_byte,
    is_status_byte,
)

MAX_RESPONSE_DATA = 80
"""The longest data part of a header-to-NUL response accepted; longer is noise."""


@dataclass(frozen=True)
class FlowControl:
    resume: bool
    """True for XON (go on sending), False for XOFF (hold)."""

    @property
    def raw(self) -> bytes:
        return bytes((commands.XON if self.resume else commands.XOFF,))


@dataclass(frozen=True)
class RealTimeStatus:
    value: int

    @property
    def raw(self) -> bytes:
        return bytes((self.value,))


@dataclass(frozen=True)
class PaperStatus:
    value: int

    @property
    def raw(self) -> bytes:
        return bytes((self.value,))


@dataclass(frozen=True)
class AutomaticStatus:
    raw: bytes


@dataclass(frozen=True)
class Response:
    """A header-to-NUL block: 37h, `identifier`, `data`, NUL."""

    identifier: int
    data: bytes

    @property
    def raw(self) -> bytes:
        return bytes((commands.RESPONSE_HEADER, self.identifier)) + self.data + bytes((commands.RESPONSE_END,))


@dataclass(frozen=True)
class Unexpected:
    raw: bytes
    reason: str


Answer = FlowControl | RealTimeStatus | PaperStatus | AutomaticStatus | Response | Unexpected


def _is_block_byte(value: int) -> bool:
    return 0x20 <= value <= 0x7E


class AnswerParser:
    """Feed bytes as they arrive; get back every answer completed so far. A frame split across reads is kept."""

    def __init__(self) -> None:
        self._frame = bytearray()

    @property
    def pending(self) -> bytes:
        """The start of a frame not yet complete."""
        return bytes(self._frame)

    def feed(self, data: bytes) -> list[Answer]:
        out: list[Answer] = []
        for value in data:
            if value in (commands.XON, commands.XOFF):
                out.append(FlowControl(value == commands.XON))
            elif not (self._frame and self._continue(value, out)):
                self._start(value, out)
        return out

    def _continue(self, value: int, out: list[Answer]) -> bool:
        """Add `value` to the open frame; False (frame given up as Unexpected) if it does not fit there."""
        frame = self._frame
        if frame[0] == commands.RESPONSE_HEADER:
            if len(frame) >= 2 and value == commands.RESPONSE_END:
                out.append(Response(frame[1], bytes(frame[2:])))
                frame.clear()
                return True
            if _is_block_byte(value):
                frame.append(value)
                if len(frame) - 2 > MAX_RESPONSE_DATA:
                    out.append(Unexpected(bytes(frame), "header-to-NUL response too long"))
                    frame.clear()
                return True
            out.append(Unexpected(bytes(frame), "header-to-NUL response broken off"))
            frame.clear()
            return False
        if is_automatic_status_continuation(value):
            frame.append(value)
            if len(frame) == AUTOMATIC_STATUS_LENGTH:
                out.append(AutomaticStatus(bytes(frame)))
                frame.clear()
            return True
        out.append(Unexpected(bytes(frame), "automatic status broken off"))
        frame.clear()
        return False

    def _start(self, value: int, out: list[Answer]) -> None:
        if value == commands.RESPONSE_HEADER or is_automatic_status_start(value):
            self._frame.append(value)
        elif is_status_byte(value):
            out.append(RealTimeStatus(value))
        elif is_paper_status_byte(value):
            out.append(PaperStatus(value))
        else:
            out.append(Unexpected(bytes((value,)), "byte fits no answer"))
