"""The virtual printer's print head: draws text, raster images and QR codes onto a growing page."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from drivers.escpos.profiles import FONT_A_HEIGHT_DOTS, FONT_A_WIDTH_DOTS, LINE_SPACING_DOTS

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts"))
_QR_LEVELS = {48: "l", 49: "m", 50: "q", 51: "h"}


@functools.cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    """The printer's font A: DejaVu Sans Mono (Debian fonts-dejavu-core), 12 dots a character."""
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in _FONT_DIRS:
        found = sorted(folder.rglob(name)) if folder.is_dir() else []
        if found:
            return ImageFont.truetype(str(found[0]), size=20)
    raise FileNotFoundError(f"{name} not found under {', '.join(map(str, _FONT_DIRS))}: install fonts-dejavu-core")


@dataclass
class _LinePiece:
    text: str
    bold: bool
    width: int
    height: int


@dataclass
class Head:
    """Modes and the line buffer; strips are finished pieces of paper, `width_dots` wide, top to bottom."""

    width_dots: int
    align: int = 0
    bold: bool = False
    size: tuple[int, int] = (1, 1)
    line: list[_LinePiece] = field(default_factory=list)
    qr_data: bytes = b""
    qr_module: int = 3
    qr_level: int = 48

    def reset(self) -> None:
        self.align, self.bold, self.size = 0, False, (1, 1)
        self.line.clear()

    def add_text(self, text: str) -> None:
        self.line.append(_LinePiece(text, self.bold, *self.size))

    def print_line(self, empty_height: int = LINE_SPACING_DOTS) -> Image.Image:
        """LF: the buffered line as a strip, or an empty line's worth of paper."""
        if not self.line:
            return _blank(self.width_dots, empty_height)
        cells = [_text_image(piece) for piece in self.line]
        height = max(cell.height for cell in cells)
        body = Image.new("1", (sum(cell.width for cell in cells), height), 1)
        x = 0
        for cell in cells:
            body.paste(cell, (x, height - cell.height))
            x += cell.width
        self.line.clear()
        strip = self._placed(body)
        return _stack([strip, _blank(self.width_dots, LINE_SPACING_DOTS - FONT_A_HEIGHT_DOTS)])

    def raster(self, width_bytes: int, height: int, data: bytes) -> Image.Image:
        image = Image.frombytes("1", (width_bytes * 8, height), bytes(b ^ 0xFF for b in data))
        return self._placed(image)

    def qr(self) -> Image.Image:
        """The stored QR data as a real QR code, model 2, the selected module size and error level."""
        code = segno.make_qr(self.qr_data, error=_QR_LEVELS.get(self.qr_level, "m"), boost_error=False)
        side = len(code.matrix) * self.qr_module
        image = Image.new("1", (side, side), 1)
        draw = ImageDraw.Draw(image)
        for y, row in enumerate(code.matrix):
            for x, cell in enumerate(row):
                if cell & 1:
                    m = self.qr_module
                    draw.rectangle((x * m, y * m, x * m + m - 1, y * m + m - 1), fill=0)
        return self._placed(image)

    def _placed(self, image: Image.Image) -> Image.Image:
        strip = Image.new("1", (self.width_dots, image.height), 1)
        room = max(0, self.width_dots - image.width)
        x = {0: 0, 1: room // 2, 2: room}.get(self.align, 0)
        strip.paste(image.crop((0, 0, min(image.width, self.width_dots), image.height)), (x, 0))
        return strip


def _text_image(piece: _LinePiece) -> Image.Image:
    base = Image.new("L", (FONT_A_WIDTH_DOTS * len(piece.text), FONT_A_HEIGHT_DOTS), 255)
    draw = ImageDraw.Draw(base)
    for i, char in enumerate(piece.text):
        draw.text((i * FONT_A_WIDTH_DOTS, 1), char, font=_font(piece.bold), fill=0)
    mono = base.point(lambda v: 0 if v < 128 else 255).convert("1")
    return mono.resize((mono.width * piece.width, mono.height * piece.height), Image.Resampling.NEAREST)


def _blank(width: int, height: int) -> Image.Image:
    return Image.new("1", (width, max(0, height)), 1)


def _stack(strips: list[Image.Image]) -> Image.Image:
    width = max((s.width for s in strips), default=0)
    page = Image.new("1", (width, sum(s.height for s in strips)), 1)
    y = 0
    for strip in strips:
        page.paste(strip, (0, y))
        y += strip.height
    return page


def stack_strips(strips: list[Image.Image], width: int) -> Image.Image:
    """A whole page from its strips, with a few millimetres of margin like a real tear-off."""
    return _stack([_blank(width, 16), *strips, _blank(width, 16)])
