"""National code validation: digits of three scripts, and a refusal that says what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from firmware_app.flow import texts
from firmware_app.flow.notices import DocumentRefused
from protocol.national_code import (
    NationalCode,
    NationalCodeProblem,
    NationalCodeRefusal,
    complete_national_code,
    parse_issued_national_code,
    parse_national_code,
)


@pytest.mark.parametrize("text", ["0012345679", "۰۰۱۲۳۴۵۶۷۹", "٠٠١٢٣٤٥٦٧٩", " 0012345679 ", "۰۰۱۲345679"])
def test_a_valid_code_is_accepted_in_any_digits(text: str) -> None:
    assert parse_national_code(text) == NationalCode("0012345679")


@pytest.mark.parametrize(
    ("text", "problem", "says"),
    [
        ("", NationalCodeProblem.EMPTY, "وارد نشده"),
        ("   ", NationalCodeProblem.EMPTY, "وارد نشده"),
        ("001234567", NationalCodeProblem.WRONG_LENGTH, "۹ رقم"),
        ("00123456790", NationalCodeProblem.WRONG_LENGTH, "۱۱ رقم"),
        ("001-234567", NationalCodeProblem.NOT_A_DIGIT, "«-» در جایگاه ۴"),
        ("00123456a9", NationalCodeProblem.NOT_A_DIGIT, "«a»"),
        ("1111111111", NationalCodeProblem.ALL_SAME_DIGITS, "یکسان"),
        ("0012345678", NationalCodeProblem.CHECK_DIGIT, "رقم کنترل"),
    ],
)
def test_a_refusal_names_the_problem(text: str, problem: NationalCodeProblem, says: str) -> None:
    result = parse_national_code(text)
    assert isinstance(result, NationalCodeRefusal)
    assert result.problem is problem
    assert says in _said(result)


@pytest.mark.parametrize(("code", "remainder"), [("0000000310", 0), ("0000003001", 1), ("0000000027", 4)])
def test_a_remainder_below_two_is_the_check_digit_itself(code: str, remainder: int) -> None:
    weighted = sum(int(d) * (10 - i) for i, d in enumerate(code[:9]))
    assert weighted % 11 == remainder
    assert parse_national_code(code) == NationalCode(code)


def test_the_code_never_shows_in_its_repr() -> None:
    code = NationalCode("0012345679")
    assert "0012345679" not in repr(code) and "0012345679" not in str(code)


@given(hs.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1))
def test_every_completed_code_is_valid_and_any_other_last_digit_is_not(first_nine: str) -> None:
    code = complete_national_code(first_nine)
    if len(set(code)) == 1:
        return
    assert parse_national_code(code) == NationalCode(code)
    for digit in "0123456789":
        if digit != code[-1]:
            assert isinstance(parse_national_code(first_nine + digit), NationalCodeRefusal)


@given(hs.text(max_size=30))
def test_any_text_gives_a_code_or_a_refusal(text: str) -> None:
    assert isinstance(parse_national_code(text), NationalCode | NationalCodeRefusal)


@pytest.mark.parametrize(
    ("char", "shown"),
    [("\u202e", "U+202E"), ("\n", "U+000A"), ("\u200f", "U+200F"), ("\x00", "U+0000"), ("\u2028", "U+2028")],
)
def test_a_refusal_quotes_an_invisible_character_as_its_code_point(char: str, shown: str) -> None:
    result = parse_national_code(f"0012{char}45679")
    assert isinstance(result, NationalCodeRefusal) and result.problem is NationalCodeProblem.NOT_A_DIGIT
    assert f"«{shown}»" in _said(result)
    assert char not in _said(result)


def test_the_issued_code_is_accepted_as_exactly_ten_ascii_digits() -> None:
    assert parse_issued_national_code("0012345679") == NationalCode("0012345679")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (" 0012345679", NationalCodeProblem.NOT_A_DIGIT),
        ("0012345679 ", NationalCodeProblem.NOT_A_DIGIT),
        ("0012345679\n", NationalCodeProblem.NOT_A_DIGIT),
        ("\t0012345679", NationalCodeProblem.NOT_A_DIGIT),
        ("۰۰۱۲۳۴۵۶۷۹", NationalCodeProblem.NOT_A_DIGIT),
        ("٠٠١٢٣٤٥٦٧٩", NationalCodeProblem.NOT_A_DIGIT),
        ("００１２３４５６７９", NationalCodeProblem.NOT_A_DIGIT),
        ("001234567", NationalCodeProblem.WRONG_LENGTH),
        ("", NationalCodeProblem.EMPTY),
        ("          ", NationalCodeProblem.NOT_A_DIGIT),
    ],
)
def test_the_issued_code_is_never_stripped_or_translated(text: str, problem: NationalCodeProblem) -> None:
    result = parse_issued_national_code(text)
    assert isinstance(result, NationalCodeRefusal), f"{text!r} was accepted as issued"
    assert result.problem is problem


@given(hs.text(max_size=14))
def test_an_issued_code_is_accepted_only_if_it_is_ten_ascii_digits(text: str) -> None:
    result = parse_issued_national_code(text)
    if isinstance(result, NationalCode):
        assert len(text) == 10 and all("0" <= char <= "9" for char in text)
        assert result.digits == text


def _said(refusal: NationalCodeRefusal) -> str:
    """The refusal as the terminal's operator reads it."""
    return texts.document_refused(DocumentRefused(refusal.problem, refusal.character, refusal.position, refusal.count))
