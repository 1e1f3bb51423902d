"""Draw Persian text into the 1-bit rasters a slip carries: shaped right to left, cropped to the ink."""

from __future__ import annotations

import enum
import functools

from PIL import Image, ImageDraw, ImageFont, features

from firmware_app.slip.fonts import check_glyphs, font_path
from hal.printer import Align, Raster

PAD_DOTS = 6
"""White space kept above and below the ink (and inside a frame), so stacked rasters do not touch."""


class Frame(enum.Enum):
    PLAIN = "plain"
    BOXED = "boxed"
    INVERTED = "inverted"


class ShapingUnavailableError(RuntimeError):
    """Pillow without libraqm would draw Persian letters unjoined and left to right."""


@functools.cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    if not features.check("raqm"):
        raise ShapingUnavailableError("Pillow has no raqm layout: install libraqm0 and libfribidi0")
    return ImageFont.truetype(str(font_path(bold)), size=size, layout_engine=ImageFont.Layout.RAQM)


def text_raster(
    text: str, size: int, max_width: int, *, bold: bool = False, align: Align = Align.RIGHT, frame: Frame = Frame.PLAIN
) -> Raster:
    """One line of Persian as a raster no wider than it needs; ValueError if it cannot fit `max_width`."""
    return lines_raster([text], size, max_width, bold=bold, align=align, frame=frame)


def lines_raster(
    lines: list[str],
    size: int,
    max_width: int,
    *,
    bold: bool = False,
    align: Align = Align.RIGHT,
    frame: Frame = Frame.PLAIN,
) -> Raster:
    """Several lines in one raster, each cropped to its ink and aligned within the widest like the raster."""
    for line in lines:
        check_glyphs(line, bold)
    font = _font(size, bold)
    rendered = [_line_ink(font, line) for line in lines]
    gap = size // 3
    border = 3 if frame is Frame.BOXED else 0
    margin = PAD_DOTS + border
    side = margin if frame is not Frame.PLAIN else 0
    width = _round_up(max(r.width for r in rendered) + 2 * side)
    if width > max_width:
        raise ValueError(f"{lines!r} at {size} px needs {width} dots; the paper has {max_width}")
    height = sum(r.height for r in rendered) + gap * (len(rendered) - 1) + 2 * margin
    image = Image.new("L", (width, height), 0)
    y = margin
    for ink in rendered:
        room = width - 2 * side - ink.width
        offset = {Align.RIGHT: room, Align.CENTER: room // 2, Align.LEFT: 0}[align]
        image.paste(ink, (side + offset, y))
        y += ink.height + gap
    if frame is Frame.BOXED:
        ImageDraw.Draw(image).rectangle((0, 0, width - 1, height - 1), outline=255, width=border)
    if frame is Frame.INVERTED:
        image = Image.eval(image, lambda v: 255 - v)
    return _pack(image, align)


def _line_ink(font: ImageFont.FreeTypeFont, text: str) -> Image.Image:
    """The shaped line as ink (255) on paper (0), cropped to its ink on every side (tails may overhang)."""
    ascent, descent = font.getmetrics()
    overhang = int(font.size)
    canvas = Image.new("L", (_advance(font, text) + 2 * overhang, ascent + descent), 0)
    ImageDraw.Draw(canvas).text((overhang, 0), text, font=font, fill=255, direction="rtl", language="fa")
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"{text!r} draws no ink")
    return canvas.crop(box)


def _advance(font: ImageFont.FreeTypeFont, text: str) -> int:
    return int(font.getlength(text, direction="rtl", language="fa") + 0.999)


def _round_up(dots: int) -> int:
    return -(-dots // 8) * 8


def _pack(image: Image.Image, align: Align) -> Raster:
    """Ink where the grey value is 128 or more, packed MSB first (an ESC/POS 1 bit is a printed dot)."""
    dots = image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    return Raster(width_dots=image.width, height_dots=image.height, data=dots.tobytes(), align=align)
