"""Encode a device-neutral print document into ESC/POS bytes for one printer profile."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

import segno

from drivers.escpos import commands
from drivers.escpos.profiles import FONT_A_WIDTH_DOTS, PrinterProfile
from hal.printer import Align, Cut, Feed, PrintDocument, PrintElement, QrCode, Raster, TextLine

RASTER_BAND_ROWS = 256
"""Tall images go as several GS v 0 bands so a printer with a small buffer never overflows."""

QR_ERROR_LEVEL = commands.QrErrorLevel.M

_ALIGN_CODES = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}


@dataclass(frozen=True)
class _Mode:
    """What the printer is set to, so a command is sent only when it changes something."""

    align: Align = Align.LEFT
    bold: bool = False
    scale: int = 1


@dataclass(frozen=True)
class EncodedJob:
    """A job's bytes and the offsets where a command starts after a whole element, so that a driver that
    must stop sending can first finish the command in progress (a printer left inside a raster would
    take whatever comes next, real-time requests and the next job included, for image data)."""

    data: bytes
    boundaries: tuple[int, ...]

    def next_boundary(self, offset: int) -> int:
        """The first element boundary at or after `offset` (the end of the data at the latest)."""
        return next((b for b in self.boundaries if b >= offset), len(self.data))


def encode_document(document: PrintDocument, profile: PrinterProfile) -> bytes:
    """The whole job: initialise, each element in order. Raises ValueError for what the profile cannot print."""
    return encode_job(document, profile).data


def encode_job(document: PrintDocument, profile: PrinterProfile) -> EncodedJob:
    """`encode_document` with the element boundaries."""
    out = bytearray(commands.INITIALIZE)
    boundaries = [len(out)]
    mode = _Mode()
    for element in document.elements:
        mode = _encode_element(element, profile, mode, out)
        boundaries.append(len(out))
    return EncodedJob(bytes(out), tuple(boundaries))


def _encode_element(element: PrintElement, profile: PrinterProfile, mode: _Mode, out: bytearray) -> _Mode:
    match element:
        case TextLine():
            return _encode_text(element, profile, mode, out)
        case Raster():
            mode = _set_align(element.align, mode, out)
            out += _raster_bands(element, profile)
            return mode
        case QrCode():
            mode = _set_align(Align.CENTER, mode, out)
            if profile.native_qr:
                out += commands.qr_code(element.data.encode("ascii"), element.module_dots, QR_ERROR_LEVEL)
            else:
                out += _raster_bands(qr_raster(element), profile)
            return mode
        case Feed():
            out += commands.feed_lines(element.lines)
            return mode
        case Cut():
            out += commands.PARTIAL_CUT
            return mode
        case _:
            assert_never(element)


def _set_align(align: Align, mode: _Mode, out: bytearray) -> _Mode:
    if align != mode.align:
        out += commands.align(_ALIGN_CODES[align])
    return replace(mode, align=align)


def _encode_text(line: TextLine, profile: PrinterProfile, mode: _Mode, out: bytearray) -> _Mode:
    if not line.text.isascii() or not line.text.isprintable():
        raise ValueError(f"native text must be printable ASCII, got {line.text!r}")
    width = len(line.text) * FONT_A_WIDTH_DOTS * line.scale
    if width > profile.dots_per_line:
        raise ValueError(
            f"text {line.text!r} at scale {line.scale} is {width} dots wide; {profile.name} prints {profile.dots_per_line}"
        )
    mode = _set_align(line.align, mode, out)
    if line.bold != mode.bold:
        out += commands.emphasis(line.bold)
    if line.scale != mode.scale:
        out += commands.character_size(line.scale, line.scale)
    out += line.text.encode("ascii") + bytes((commands.LF,))
    return replace(mode, bold=line.bold, scale=line.scale)


def _raster_bands(raster: Raster, profile: PrinterProfile) -> bytes:
    if raster.width_dots % 8 or raster.width_dots <= 0 or raster.height_dots <= 0:
        raise ValueError(f"raster must be a positive multiple of 8 dots wide, got {raster.width_dots}")
    if raster.width_dots > profile.dots_per_line:
        raise ValueError(f"raster is {raster.width_dots} dots wide; {profile.name} prints {profile.dots_per_line}")
    row_bytes = raster.width_dots // 8
    if len(raster.data) != row_bytes * raster.height_dots:
        raise ValueError(f"raster data is {len(raster.data)} bytes, expected {row_bytes * raster.height_dots}")
    out = bytearray()
    for top in range(0, raster.height_dots, RASTER_BAND_ROWS):
        rows = min(RASTER_BAND_ROWS, raster.height_dots - top)
        out += commands.raster_image(row_bytes, rows, raster.data[top * row_bytes : (top + rows) * row_bytes])
    return bytes(out)


def qr_raster(qr: QrCode) -> Raster:
    """The same QR code as a 1-bit image, for printers without native QR: same level, no quiet zone."""
    matrix = segno.make_qr(qr.data, error=QR_ERROR_LEVEL.name.lower(), boost_error=False).matrix
    side = len(matrix) * qr.module_dots
    width = -(-side // 8) * 8
    data = bytearray()
    for row in matrix:
        bits = "".join(("1" if cell & 1 else "0") * qr.module_dots for cell in row).ljust(width, "0")
        packed = int(bits, 2).to_bytes(width // 8, "big")
        data += packed * qr.module_dots
    return Raster(width_dots=width, height_dots=side, data=bytes(data), align=Align.CENTER)
