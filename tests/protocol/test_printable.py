"""Quoting outside text: invisible characters become visible code points, printable text stays as it is."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from protocol.printable import ELLIPSIS, printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("abc", "abc"),
        ("کد ۱۲۳", "کد ۱۲۳"),
        ("a\u202eb", "aU+202Eb"),
        ("\u2066x\u2069", "U+2066xU+2069"),
        ("line\nnext\r", "lineU+000AnextU+000D"),
        ("\x00\x1b[2J", "U+0000U+001B[2J"),
        ("\u200b\u200c\ufeff", "U+200BU+200CU+FEFF"),
        ("\u2028\u2029", "U+2028U+2029"),
        ("\x85", "U+0085"),
        ("\U000e0001", "U+E0001"),
        ("\ue000", "U+E000"),
        ("\ud800", "U+D800"),
    ],
)
def test_control_format_and_separator_characters_are_shown_as_code_points(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_long_text_is_cut_with_an_ellipsis() -> None:
    assert printable("x" * 41) == "x" * 40 + ELLIPSIS
    assert printable("x" * 40) == "x" * 40
    assert printable("\u202e" * 5, limit=2) == "U+202EU+202E" + ELLIPSIS
    assert printable("abc", limit=0) == ELLIPSIS


@given(hs.text(max_size=60))
def test_nothing_invisible_or_line_breaking_survives(text: str) -> None:
    shown = printable(text)
    assert all(unicodedata.category(char)[0] != "C" and char not in "\u2028\u2029" for char in shown)
    assert shown.splitlines() == [shown] or shown == ""
