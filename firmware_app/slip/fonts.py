"""Find the Persian font on the device and prove every character we print has a glyph in it."""

from __future__ import annotations

import functools
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

REGULAR = "NotoSansArabic-Regular.ttf"
BOLD = "NotoSansArabic-Bold.ttf"
SEARCH_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/local/share/fonts"),
    Path("/usr/share/fonts"),
)
"""Debian's fonts-noto-core puts the font in the first folder; the others cover local installs."""

_LAYOUT_ONLY = frozenset({"\u200c", "\u200d", "\u200e", "\u200f"})
"""Joiner and direction controls shape the text but need no glyph of their own."""


class FontMissingError(FileNotFoundError):
    """The Persian font is not installed: a deployment fault, reported with the package to install."""


class MissingGlyphError(ValueError):
    """Text for the slip holds a character the font cannot draw: it would print as an empty box."""


@functools.cache
def font_path(bold: bool) -> Path:
    name = BOLD if bold else REGULAR
    for folder in SEARCH_DIRS:
        if folder.is_dir():
            found = sorted(folder.rglob(name))
            if found:
                return found[0]
    raise FontMissingError(f"{name} not found in {', '.join(map(str, SEARCH_DIRS))}: install fonts-noto-core")


@functools.cache
def _codepoints(path: Path) -> frozenset[int]:
    font = TTFont(str(path), lazy=True)
    try:
        cmap = font.getBestCmap()
    finally:
        font.close()
    return frozenset(cmap)


def check_glyphs(text: str, bold: bool) -> None:
    """Raise MissingGlyphError naming each character of `text` the font has no glyph for."""
    covered = _codepoints(font_path(bold))
    missing = sorted({ch for ch in text if ord(ch) not in covered and ch not in _LAYOUT_ONLY})
    if missing:
        listed = ", ".join(f"U+{ord(ch):04X}" for ch in missing)
        raise MissingGlyphError(f"{font_path(bold).name} has no glyph for {listed} in {text!r}")


def drawable(text: str, bold: bool, stand_in: str) -> str:
    """`text` with each character the font has no glyph for replaced by `stand_in` (text from outside, such as a
    candidate's name, must print rather than stop a document)."""
    covered = _codepoints(font_path(bold))
    return "".join(ch if ord(ch) in covered or ch in _LAYOUT_ONLY else stand_in for ch in text)
