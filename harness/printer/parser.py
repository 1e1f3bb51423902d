"""Split an incoming ESC/POS byte stream into commands, incrementally, as a printer's receive side does."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.escpos import commands as c


@dataclass(frozen=True)
class RealTimeStatus:
    request: int


@dataclass(frozen=True)
class ClearBuffers:
    pass


@dataclass(frozen=True)
class Initialize:
    pass


@dataclass(frozen=True)
class SetAlign:
    code: int


@dataclass(frozen=True)
class SetBold:
    on: bool


@dataclass(frozen=True)
class SetSize:
    width: int
    height: int


@dataclass(frozen=True)
class Text:
    data: bytes


@dataclass(frozen=True)
class LineFeed:
    pass


@dataclass(frozen=True)
class FeedLines:
    lines: int


@dataclass(frozen=True)
class RasterImage:
    width_bytes: int
    height_dots: int
    data: bytes


@dataclass(frozen=True)
class QrFunction:
    """GS ( k with cn 49: function code and its parameters."""

    function: int
    parameters: bytes


@dataclass(frozen=True)
class Cut:
    pass


@dataclass(frozen=True)
class TransmitStatus:
    """GS r n: answered in order, after everything before it."""

    request: int


@dataclass(frozen=True)
class ProcessIdRequest:
    """GS ( H function 48: answer 37h 22h id NUL once everything before it has been printed."""

    process_id: bytes


@dataclass(frozen=True)
class Unknown:
    data: bytes


RealTimeCommand = RealTimeStatus | ClearBuffers
BufferedCommand = (
    Initialize | SetAlign | SetBold | SetSize | Text | LineFeed | FeedLines | RasterImage | QrFunction | Cut
    | TransmitStatus | ProcessIdRequest | Unknown
)
Command = RealTimeCommand | BufferedCommand

_NEED_MORE = None


class Tokenizer:
    """Feed bytes as they arrive; get back every command completed so far, in order."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[Command]:
        return [command for command, _ in self.feed_raw(data)]

    def feed_raw(self, data: bytes) -> list[tuple[Command, bytes]]:
        """Each completed command with the bytes it took on the line."""
        self._pending += data
        out: list[tuple[Command, bytes]] = []
        while self._pending:
            parsed = _parse(bytes(self._pending))
            if parsed is _NEED_MORE:
                break
            command, used = parsed
            out.append((command, bytes(self._pending[:used])))
            del self._pending[:used]
        return out


def _parse(buf: bytes) -> tuple[Command, int] | None:
    first = buf[0]
    if first == c.DLE:
        return _parse_dle(buf)
    if first == c.ESC:
        return _parse_esc(buf)
    if first == c.GS:
        return _parse_gs(buf)
    if first == c.LF:
        return LineFeed(), 1
    if 0x20 <= first <= 0x7E:
        end = 1
        while end < len(buf) and 0x20 <= buf[end] <= 0x7E:
            end += 1
        return (Text(buf[:end]), end) if end < len(buf) else _NEED_MORE
    return Unknown(buf[:1]), 1


def _parse_dle(buf: bytes) -> tuple[Command, int] | None:
    if len(buf) < 3:
        return _NEED_MORE
    if buf[1] == c.EOT:
        return RealTimeStatus(buf[2]), 3
    if buf[1] == c.DC4 and buf[2] == 0x08:
        size = len(c.CLEAR_BUFFERS)
        if len(buf) < size:
            return _NEED_MORE
        return (ClearBuffers(), size) if buf[:size] == c.CLEAR_BUFFERS else (Unknown(buf[:size]), size)
    return Unknown(buf[:2]), 2


def _parse_esc(buf: bytes) -> tuple[Command, int] | None:
    if len(buf) < 2:
        return _NEED_MORE
    if buf[1] == 0x40:
        return Initialize(), 2
    if buf[1] not in (0x61, 0x45, 0x64):
        return Unknown(buf[:2]), 2
    if len(buf) < 3:
        return _NEED_MORE
    n = buf[2]
    match buf[1]:
        case 0x61:
            return SetAlign(n % 48 if n >= 48 else n), 3
        case 0x45:
            return SetBold(bool(n & 1)), 3
        case _:
            return FeedLines(n), 3


def _parse_gs(buf: bytes) -> tuple[Command, int] | None:
    if len(buf) < 3:
        return _NEED_MORE
    match buf[1]:
        case 0x21:
            return SetSize((buf[2] >> 4) + 1, (buf[2] & 0x0F) + 1), 3
        case 0x72:
            return TransmitStatus(buf[2]), 3
        case 0x56:
            if buf[2] in (0x41, 0x42):
                return (Cut(), 4) if len(buf) >= 4 else _NEED_MORE
            return Cut(), 3
        case 0x76 if buf[2] == 0x30:
            if len(buf) < 8:
                return _NEED_MORE
            width_bytes = int.from_bytes(buf[4:6], "little")
            height = int.from_bytes(buf[6:8], "little")
            end = 8 + width_bytes * height
            return (RasterImage(width_bytes, height, buf[8:end]), end) if len(buf) >= end else _NEED_MORE
        case 0x28 if buf[2] == 0x6B:
            framed = _framed(buf)
            if framed is None:
                return _NEED_MORE
            body, end = framed
            if len(body) < 2 or body[0] != 0x31:
                return Unknown(buf[:end]), end
            return QrFunction(body[1], body[2:]), end
        case 0x28 if buf[2] == 0x48:
            return _parse_process_id(buf)
        case _:
            return Unknown(buf[:2]), 2


def _framed(buf: bytes) -> tuple[bytes, int] | None:
    """The body of a `GS ( x pL pH ...` command and where it ends, or None while bytes are still to come."""
    if len(buf) < 5:
        return None
    end = 5 + int.from_bytes(buf[3:5], "little")
    return (buf[5:end], end) if len(buf) >= end else None


def _parse_process_id(buf: bytes) -> tuple[Command, int] | None:
    """GS ( H pL pH fn m d1..d4 with fn = m = 48 and each d in 20h..7Eh; anything else is Unknown."""
    framed = _framed(buf)
    if framed is None:
        return _NEED_MORE
    body, end = framed
    if len(body) == 6 and body[:2] == b"\x30\x30" and all(0x20 <= d <= 0x7E for d in body[2:]):
        return ProcessIdRequest(body[2:]), end
    return Unknown(buf[:end]), end
