"""ATR parsing (ISO 7816-3): protocols offered and the card capabilities in the historical bytes."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AtrProblem(enum.StrEnum):
    TOO_SHORT = "too_short"
    BAD_TS = "bad_ts"
    TRUNCATED = "truncated"
    BAD_CHECKSUM = "bad_checksum"
    TRAILING_BYTES = "trailing_bytes"


@dataclass(frozen=True)
class AtrError:
    problem: AtrProblem
    detail: str = ""


@dataclass(frozen=True)
class Atr:
    raw: bytes
    protocols: frozenset[int]
    historical: bytes

    @property
    def extended_length(self) -> bool:
        """True when the card capabilities (compact-TLV tag 7) declare extended Lc and Le fields."""
        capabilities = _compact_tlv(self.historical).get(0x7, b"")
        return len(capabilities) >= 3 and bool(capabilities[2] & 0x40)


def parse_atr(raw: bytes) -> Atr | AtrError:
    """Parse an ATR; any malformation is a typed error."""
    if len(raw) < 2:
        return AtrError(AtrProblem.TOO_SHORT, f"{len(raw)} bytes")
    if raw[0] not in (0x3B, 0x3F):
        return AtrError(AtrProblem.BAD_TS, f"TS={raw[0]:02X}")
    historical_count = raw[1] & 0x0F
    indicator = raw[1] >> 4
    position = 2
    protocols: set[int] = set()
    while True:
        for mask in (0x1, 0x2, 0x4):
            if indicator & mask:
                position += 1
        if not indicator & 0x8:
            break
        if position >= len(raw):
            return AtrError(AtrProblem.TRUNCATED, "interface bytes")
        td = raw[position]
        position += 1
        protocols.add(td & 0x0F)
        indicator = td >> 4
    if position > len(raw):
        return AtrError(AtrProblem.TRUNCATED, "interface bytes")
    historical = raw[position : position + historical_count]
    if len(historical) < historical_count:
        return AtrError(AtrProblem.TRUNCATED, "historical bytes")
    position += historical_count
    offered = protocols or {0}
    needs_tck = offered != {0}
    if needs_tck:
        if position >= len(raw):
            return AtrError(AtrProblem.TRUNCATED, "TCK")
        check = 0
        for byte in raw[1 : position + 1]:
            check ^= byte
        if check:
            return AtrError(AtrProblem.BAD_CHECKSUM, f"XOR={check:02X}")
        position += 1
    if position != len(raw):
        return AtrError(AtrProblem.TRAILING_BYTES, f"{len(raw) - position} extra")
    return Atr(bytes(raw), frozenset(offered), bytes(historical))


def build_atr(historical: bytes) -> bytes:
    """An ATR offering T=1 with the given historical bytes (for virtual cards)."""
    body = bytes((0x80 | len(historical), 0x01)) + historical
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3b" + body + bytes((check,))


def _compact_tlv(historical: bytes) -> dict[int, bytes]:
    """Compact-TLV objects after category indicator 0x80; anything else yields no objects."""
    if not historical or historical[0] != 0x80:
        return {}
    objects: dict[int, bytes] = {}
    position = 1
    while position < len(historical):
        tag, length = historical[position] >> 4, historical[position] & 0x0F
        value = historical[position + 1 : position + 1 + length]
        if len(value) < length:
            break
        objects.setdefault(tag, value)
        position += 1 + length
    return objects
