"""ESC/POS command bytes: the small subset the terminal sends, one builder per command."""

from __future__ import annotations

import enum

ESC = 0x1B
GS = 0x1D
DLE = 0x10
EOT = 0x04
DC4 = 0x14
LF = 0x0A

INITIALIZE = bytes((ESC, 0x40))
"""ESC @: reset modes (alignment, emphasis, size) at the start of every job."""

PARTIAL_CUT = bytes((GS, 0x56, 0x42, 0x00))
"""GS V 66 0: feed to the cutter and cut, leaving a hinge."""

CLEAR_BUFFERS = bytes((DLE, DC4, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08))
"""DLE DC4 8: real-time, drop everything received but not yet printed."""

XON = 0x11
XOFF = 0x13
"""DC1 / DC3: software flow control from the printer (resume / hold sending); never part of an answer."""

RESPONSE_HEADER = 0x37
RESPONSE_END = 0x00
"""Header-to-NUL responses: 37h, an identifier byte, data bytes 20h..7Eh, then NUL."""

CLEAR_RESPONSE = bytes((RESPONSE_HEADER, 0x25, RESPONSE_END))
"""The printer's acknowledgement of DLE DC4 8."""

PAPER_STATUS_REQUEST = bytes((GS, 0x72, 0x01))
"""GS r 1: transmit paper sensor status; not real-time, so answered in order, after what came before it."""

PROCESS_ID_REQUEST = bytes((GS, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30))
"""GS ( H 6 0 48 48, then four id bytes (20h..7Eh): the printer answers 37h 22h id NUL once the data
before it has been printed."""

PROCESS_ID_RESPONSE = bytes((RESPONSE_HEADER, 0x22))
"""The header and identifier of a process ID response; the id and NUL follow."""


class StatusRequest(enum.IntEnum):
    """DLE EOT n: real-time status, answered at once even while the printer is offline."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


class QrErrorLevel(enum.IntEnum):
    """GS ( k function 169 argument: QR error correction."""

    L = 48
    M = 49
    Q = 50
    H = 51


def status_request(kind: StatusRequest) -> bytes:
    return bytes((DLE, EOT, kind))


def align(code: int) -> bytes:
    """ESC a n: 0 left, 1 centre, 2 right; applies to text, raster images and QR codes."""
    return bytes((ESC, 0x61, code))


def emphasis(on: bool) -> bytes:
    """ESC E n: bold."""
    return bytes((ESC, 0x45, 1 if on else 0))


def character_size(width: int, height: int) -> bytes:
    """GS ! n: width and height magnification, each 1 to 8."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError(f"character size must be 1..8, got {width}x{height}")
    return bytes((GS, 0x21, ((width - 1) << 4) | (height - 1)))


def feed_lines(lines: int) -> bytes:
    """ESC d n: print the buffer and feed n lines."""
    if not 0 <= lines <= 255:
        raise ValueError(f"feed must be 0..255 lines, got {lines}")
    return bytes((ESC, 0x64, lines))


def raster_image(width_bytes: int, height_dots: int, data: bytes) -> bytes:
    """GS v 0 0: a 1-bit image at normal density, rows packed MSB first."""
    if len(data) != width_bytes * height_dots:
        raise ValueError(f"raster data is {len(data)} bytes, expected {width_bytes * height_dots}")
    header = bytes((GS, 0x76, 0x30, 0x00))
    return header + width_bytes.to_bytes(2, "little") + height_dots.to_bytes(2, "little") + data


def _qr_function(function: int, parameters: bytes) -> bytes:
    """GS ( k pL pH cn=49 fn parameters."""
    length = len(parameters) + 2
    return bytes((GS, 0x28, 0x6B)) + length.to_bytes(2, "little") + bytes((0x31, function)) + parameters


def qr_code(data: bytes, module_dots: int, level: QrErrorLevel) -> bytes:
    """Select model 2, set module size and error level, store the data, print it."""
    if not 1 <= module_dots <= 16:
        raise ValueError(f"QR module size must be 1..16 dots, got {module_dots}")
    if not 1 <= len(data) <= 7089:
        raise ValueError(f"QR data must be 1..7089 bytes, got {len(data)}")
    return (
        _qr_function(0x41, bytes((0x32, 0x00)))
        + _qr_function(0x43, bytes((module_dots,)))
        + _qr_function(0x45, bytes((level,)))
        + _qr_function(0x50, b"\x30" + data)
        + _qr_function(0x51, b"\x30")
    )
