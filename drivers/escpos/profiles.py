"""Printer capability profiles: what differs between thermal printer models, as data."""

from __future__ import annotations

from dataclasses import dataclass

from hal.printer import TEXT_CELL_WIDTH_DOTS

DOTS_PER_MM = 8
"""Every supported model prints at 203 dpi, eight dots per millimetre."""

FONT_A_WIDTH_DOTS = TEXT_CELL_WIDTH_DOTS
FONT_A_HEIGHT_DOTS = 24
LINE_SPACING_DOTS = 30
"""Font A is 12 x 24 dots; the default line pitch is 30 dots."""


@dataclass(frozen=True)
class PrinterProfile:
    """One printer model: paper, printable width, serial speed and whether it draws QR codes itself."""

    name: str
    paper_mm: int
    dots_per_line: int
    baud_rate: int
    native_qr: bool

    def __post_init__(self) -> None:
        if self.dots_per_line % 8 or self.dots_per_line <= 0:
            raise ValueError(f"dots_per_line must be a positive multiple of 8, got {self.dots_per_line}")
        if self.paper_mm not in (58, 80):
            raise ValueError(f"paper_mm must be 58 or 80, got {self.paper_mm}")

    @property
    def columns(self) -> int:
        """Font A characters in one line at normal size."""
        return self.dots_per_line // FONT_A_WIDTH_DOTS


GENERIC_80 = PrinterProfile("generic-80", paper_mm=80, dots_per_line=576, baud_rate=115_200, native_qr=True)
GENERIC_58 = PrinterProfile("generic-58", paper_mm=58, dots_per_line=384, baud_rate=38_400, native_qr=True)
BASIC_58 = PrinterProfile("basic-58", paper_mm=58, dots_per_line=384, baud_rate=9_600, native_qr=False)

PROFILES: dict[str, PrinterProfile] = {p.name: p for p in (GENERIC_80, GENERIC_58, BASIC_58)}


def profile_named(name: str) -> PrinterProfile:
    """The profile a config names; an unknown name is a config error listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown printer profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
