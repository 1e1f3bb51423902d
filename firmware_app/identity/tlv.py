"""BER-TLV (ISO 7816-4 / ICAO 9303) encoding and strict parsing; malformed input is a typed error."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

_MAX_LENGTH_BYTES = 3


class TlvProblem(enum.StrEnum):
    TRUNCATED = "truncated"
    BAD_TAG = "bad_tag"
    BAD_LENGTH = "bad_length"
    MISSING = "missing"
    DUPLICATE = "duplicate"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class TlvError:
    problem: TlvProblem
    offset: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes(max(1, (self.tag.bit_length() + 7) // 8), "big")[0]
        return bool(first & 0x20)


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("negative tag")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > _MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def encode_all(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(encode(tag, value) for tag, value in items)


def parse_header(data: bytes, offset: int = 0) -> tuple[int, int, int] | TlvError:
    """(tag, value length, header length) of the object at `offset`; the value itself may be absent."""
    if offset >= len(data):
        return TlvError(TlvProblem.TRUNCATED, offset, "no tag")
    position = offset
    first = data[position]
    if first in (0x00, 0xFF):
        return TlvError(TlvProblem.BAD_TAG, offset, f"tag byte {first:02X}")
    position += 1
    if first & 0x1F == 0x1F:
        while True:
            if position >= len(data):
                return TlvError(TlvProblem.TRUNCATED, position, "multi-byte tag")
            if position - offset >= 3:
                return TlvError(TlvProblem.BAD_TAG, offset, "tag longer than 3 bytes")
            more = data[position] & 0x80
            position += 1
            if not more:
                break
    tag = int.from_bytes(data[offset:position], "big")
    if position >= len(data):
        return TlvError(TlvProblem.TRUNCATED, position, "no length")
    length_byte = data[position]
    position += 1
    if length_byte < 0x80:
        length = length_byte
    else:
        size = length_byte & 0x7F
        if size == 0 or size > _MAX_LENGTH_BYTES:
            return TlvError(TlvProblem.BAD_LENGTH, position - 1, f"length byte {length_byte:02X}")
        if position + size > len(data):
            return TlvError(TlvProblem.TRUNCATED, position, "long length")
        length = int.from_bytes(data[position : position + size], "big")
        position += size
    return tag, length, position - offset


def parse_one(data: bytes, offset: int = 0) -> tuple[Tlv, int] | TlvError:
    """The object at `offset` and the offset after it."""
    header = parse_header(data, offset)
    if isinstance(header, TlvError):
        return header
    tag, length, header_length = header
    start = offset + header_length
    if start + length > len(data):
        return TlvError(TlvProblem.TRUNCATED, start, f"value of {length} bytes")
    return Tlv(tag, bytes(data[start : start + length])), start + length


def parse_all(data: bytes) -> tuple[Tlv, ...] | TlvError:
    """A sequence of objects that exactly fills `data`."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        parsed = parse_one(data, offset)
        if isinstance(parsed, TlvError):
            return parsed
        item, offset = parsed
        items.append(item)
    return tuple(items)


def parse_single(data: bytes, tag: int) -> bytes | TlvError:
    """The value of the one object `data` consists of, which must carry `tag`."""
    items = parse_all(data)
    if isinstance(items, TlvError):
        return items
    if len(items) != 1 or items[0].tag != tag:
        return TlvError(TlvProblem.UNEXPECTED, 0, f"expected one object {tag:X}")
    return items[0].value


def fields(data: bytes, required: Iterable[int], optional: Iterable[int] = ()) -> dict[int, bytes] | TlvError:
    """Children of a constructed value, each tag at most once; unknown tags and missing ones are errors."""
    items = parse_all(data)
    if isinstance(items, TlvError):
        return items
    wanted = set(required)
    allowed = wanted | set(optional)
    found: dict[int, bytes] = {}
    for item in items:
        if item.tag not in allowed:
            return TlvError(TlvProblem.UNEXPECTED, 0, f"tag {item.tag:X}")
        if item.tag in found:
            return TlvError(TlvProblem.DUPLICATE, 0, f"tag {item.tag:X}")
        found[item.tag] = item.value
    missing = wanted - found.keys()
    if missing:
        return TlvError(TlvProblem.MISSING, 0, ", ".join(f"{tag:X}" for tag in sorted(missing)))
    return found
