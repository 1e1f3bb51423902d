"""ISO 7816-4 APDU codec: command encoding (short and extended), response parsing, status words."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hal.link_errors import LinkError, LinkProblem

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LE = 65536
SW_OK = 0x9000


@dataclass(frozen=True)
class CommandApdu:
    """A command. `le` is the expected response length (None: no data expected; 256/65536 mean 'all')."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_LC or (self.le is not None and self.le > SHORT_MAX_LE)

    def encode(self, extended: bool | None = None) -> bytes:
        """Encode as short or extended (ISO 7816-4 cases 1-4); `extended=None` picks what fits."""
        use_extended = self.needs_extended() if extended is None else extended
        if not use_extended and self.needs_extended():
            raise ValueError("command does not fit a short APDU")
        if len(self.data) > 65535 or (self.le is not None and not 1 <= self.le <= EXTENDED_MAX_LE):
            raise ValueError("command length out of range")
        for byte in (self.cla, self.ins, self.p1, self.p2):
            if not 0 <= byte <= 0xFF:
                raise ValueError("header byte out of range")
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        if use_extended:
            body = b""
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = (self.le % EXTENDED_MAX_LE).to_bytes(2, "big")
                body += le if self.data else b"\x00" + le
            return header + body
        body = bytes((len(self.data),)) + self.data if self.data else b""
        if self.le is not None:
            body += bytes((self.le % SHORT_MAX_LE,))
        return header + body

    def with_le(self, le: int) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


class StatusKind(enum.StrEnum):
    """What a status word tells the transport to do."""

    OK = "ok"
    WARNING = "warning"
    MORE_DATA = "more_data"
    WRONG_LE = "wrong_le"
    END_OF_FILE = "end_of_file"
    NOT_FOUND = "not_found"
    SECURITY = "security"
    WRONG_COMMAND = "wrong_command"
    ERROR = "error"


def classify(sw: int) -> StatusKind:
    """Classify a status word (ISO 7816-4 section 5.6)."""
    sw1 = sw >> 8
    if sw == SW_OK:
        return StatusKind.OK
    if sw1 == 0x61:
        return StatusKind.MORE_DATA
    if sw1 == 0x6C:
        return StatusKind.WRONG_LE
    if sw in (0x6282, 0x6B00):
        return StatusKind.END_OF_FILE
    if sw1 in (0x62, 0x63):
        return StatusKind.WARNING
    if sw in (0x6A82, 0x6A83):
        return StatusKind.NOT_FOUND
    if sw in (0x6982, 0x6983, 0x6984, 0x6985, 0x6988):
        return StatusKind.SECURITY
    if sw in (0x6D00, 0x6E00, 0x6A86, 0x6A87, 0x6700):
        return StatusKind.WRONG_COMMAND
    return StatusKind.ERROR


def parse_response(raw: bytes) -> ResponseApdu | LinkError:
    """Split a raw response into data and status word; fewer than two bytes is malformed."""
    if len(raw) < 2:
        return LinkError(LinkProblem.MALFORMED_RESPONSE, f"response of {len(raw)} bytes has no status word")
    sw = int.from_bytes(raw[-2:], "big")
    if sw >> 12 not in (0x6, 0x9) or sw >> 8 == 0x60:
        return LinkError(LinkProblem.MALFORMED_RESPONSE, f"invalid status word {sw:04X}")
    return ResponseApdu(bytes(raw[:-2]), sw)
