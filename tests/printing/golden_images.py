"""Compare a rendered page with its golden PNG; UPDATE_GOLDEN=1 rewrites the golden images instead."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageChops

GOLDEN_DIR = Path(__file__).parent / "golden"
MAX_DIFFERING_PIXELS = 0
"""Exact: one changed digit of a slip is only some 50 pixels, so no tolerance is safe to give."""


def differing_pixels(actual: Image.Image, name: str) -> Image.Image:
    """White where the page and the golden image `name` differ; ValueError if their sizes differ."""
    golden = Image.open(GOLDEN_DIR / name).convert("1")
    page = actual.convert("1")
    if page.size != golden.size:
        raise ValueError(f"{name}: rendered {page.size}, golden {golden.size}")
    return ImageChops.logical_xor(page, golden)


def assert_matches_golden(actual: Image.Image, name: str, scratch: Path) -> None:
    golden_path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        actual.convert("1").save(golden_path, optimize=True)
    assert golden_path.is_file(), f"no golden image {golden_path}: run UPDATE_GOLDEN=1 .venv/bin/pytest tests/printing"
    actual.convert("1").save(scratch / f"actual-{name}")
    diff = differing_pixels(actual, name)
    count = diff.histogram()[255]
    if count > MAX_DIFFERING_PIXELS:
        diff.save(scratch / f"diff-{name}")
    assert count <= MAX_DIFFERING_PIXELS, f"{name}: {count} pixels differ; actual and diff in {scratch}"
