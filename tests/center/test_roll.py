"""Voter roll CSV: what is accepted, and every refusal naming its line without repeating the national code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from center.eligibility import VoterStatus
from center.roll import MAX_PROBLEMS, RollProblemKind, RollRefused, parse_roll, read_roll, write_roll
from tests.center.sample import ADULT, ADULT_TWO, SMALL_ROLL

HEADER = "national_code,birth_date,name,status\n"


def _refusal(text: str) -> RollRefused:
    result = parse_roll(text.splitlines(keepends=True))
    assert isinstance(result, RollRefused), f"expected a refusal, got {result!r}"
    return result


def test_a_written_roll_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    assert write_roll(SMALL_ROLL, path) == len(SMALL_ROLL)
    assert read_roll(path) == list(SMALL_ROLL)


def test_persian_digits_and_a_byte_order_mark_are_accepted() -> None:
    persian = ADULT.digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    records = parse_roll(["\ufeff" + HEADER, f"{persian},1980-03-21,علی رضایی,eligible\n"])
    assert not isinstance(records, RollRefused)
    assert [r.national_code for r in records] == [ADULT]
    assert records[0].birth_date == date(1980, 3, 21)
    assert records[0].status is VoterStatus.ELIGIBLE


def test_a_name_with_a_zero_width_non_joiner_is_accepted() -> None:
    records = parse_roll([HEADER, f"{ADULT.digits},1980-03-21,زهرا حسین\u200cزاده,eligible\n"])
    assert not isinstance(records, RollRefused)
    assert records[0].name == "زهرا حسین\u200cزاده"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f"{ADULT.digits[:9]}{(int(ADULT.digits[9]) + 1) % 10},1980-03-21,علی,eligible", RollProblemKind.BAD_NATIONAL_CODE),
        ("12345,1980-03-21,علی,eligible", RollProblemKind.BAD_NATIONAL_CODE),
        (f"{ADULT.digits},1980-02-30,علی,eligible", RollProblemKind.BAD_BIRTH_DATE),
        (f"{ADULT.digits},19800321,علی,eligible", RollProblemKind.BAD_BIRTH_DATE),
        (f"{ADULT.digits},1980-03-21,,eligible", RollProblemKind.BAD_NAME),
        (f"{ADULT.digits},1980-03-21,علی\x07,eligible", RollProblemKind.BAD_NAME),
        (f"{ADULT.digits},1980-03-21,{'ع' * 101},eligible", RollProblemKind.BAD_NAME),
        (f"{ADULT.digits},1980-03-21,علی,alive", RollProblemKind.BAD_STATUS),
        (f"{ADULT.digits},1980-03-21,علی", RollProblemKind.WRONG_FIELD_COUNT),
        (f"{ADULT.digits},1980-03-21,علی,eligible,extra", RollProblemKind.WRONG_FIELD_COUNT),
    ],
)
def test_a_bad_line_refuses_the_whole_roll_and_says_which_line(line: str, kind: RollProblemKind) -> None:
    refusal = _refusal(f"{HEADER}{ADULT_TWO.digits},1975-01-02,زهرا,eligible\n{line}\n")
    assert [(p.line, p.kind) for p in refusal.problems] == [(3, kind)]


def test_a_repeated_national_code_is_refused() -> None:
    row = f"{ADULT.digits},1980-03-21,علی,eligible\n"
    refusal = _refusal(HEADER + row + row)
    assert [(p.line, p.kind) for p in refusal.problems] == [(3, RollProblemKind.REPEATED_NATIONAL_CODE)]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("", RollProblemKind.EMPTY), ("code,birth,name,status\n", RollProblemKind.BAD_HEADER)],
)
def test_a_missing_or_wrong_header_is_refused(text: str, kind: RollProblemKind) -> None:
    assert [p.kind for p in _refusal(text).problems] == [kind]


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    path.write_bytes(HEADER.encode() + "علی".encode("utf-16"))
    result = read_roll(path)
    assert isinstance(result, RollRefused)
    assert [p.kind for p in result.problems] == [RollProblemKind.NOT_UTF8]


def test_the_list_of_problems_is_capped() -> None:
    refusal = _refusal(HEADER + "bad,line\n" * (MAX_PROBLEMS * 3))
    assert len(refusal.problems) == MAX_PROBLEMS


def test_problems_never_repeat_the_national_code() -> None:
    wrong = f"{ADULT.digits[:9]}{(int(ADULT.digits[9]) + 1) % 10}"
    refusal = _refusal(f"{HEADER}{wrong},1980-03-21,علی,eligible\n{ADULT.digits},1980-02-30,علی,eligible\n")
    assert len(refusal.problems) == 2
    for problem in refusal.problems:
        assert wrong not in str(problem)
        assert ADULT.digits not in str(problem)
