"""Printer interface: a device-neutral print document in, a print result (never fire and forget) out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Align(enum.StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextLine:
    """Text the printer draws with its own font: ASCII only (digits, Latin); Persian goes as a raster."""

    text: str
    align: Align = Align.CENTER
    scale: int = 1
    bold: bool = False


TEXT_CELL_WIDTH_DOTS = 12
"""Width of one native character at scale 1 (font A, 12 x 24 dots at 203 dpi) on every supported printer."""


@dataclass(frozen=True)
class Raster:
    """A 1-bit image, rows packed MSB first, `width_dots` a multiple of 8."""

    width_dots: int
    height_dots: int
    data: bytes
    align: Align = Align.CENTER


@dataclass(frozen=True)
class QrCode:
    """Drawn by the printer's native QR support."""

    data: str
    module_dots: int = 4


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class Cut:
    pass


PrintElement = TextLine | Raster | QrCode | Feed | Cut


@dataclass(frozen=True)
class PrintDocument:
    """One slip or report: what to print, in order, ending with a cut."""

    title: str
    elements: tuple[PrintElement, ...]


class PrinterState(enum.StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    NO_PAPER = "no_paper"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    UNCONFIRMED = "unconfirmed"
    """A job the printer did not unambiguously confirm: the slip may, or may not, have come out (whole)."""


PRINTABLE_STATES = frozenset({PrinterState.READY, PrinterState.PAPER_LOW})


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    detail: str = ""

    @property
    def can_print(self) -> bool:
        return self.state in PRINTABLE_STATES


class PrintStage(enum.StrEnum):
    """Where a print failed: before any paper moved (nothing came out) or during the job (maybe partial)."""

    BEFORE = "before"
    DURING = "during"


@dataclass(frozen=True)
class Printed:
    """The job went out and the printer reported ready afterwards."""

    status: PrinterStatus


@dataclass(frozen=True)
class PrintFailed:
    stage: PrintStage
    status: PrinterStatus


PrintResult = Printed | PrintFailed


class Printer(Protocol):
    """A receipt printer. Blocking calls, made from a worker thread, never from the event loop."""

    def status(self) -> PrinterStatus: ...

    def print_document(self, document: PrintDocument) -> PrintResult: ...

    def close(self) -> None: ...
