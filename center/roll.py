"""The voter roll as CSV: strict reading (every problem named with its line), and writing."""

from __future__ import annotations

import csv
import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from center.eligibility import VoterRecord, VoterStatus
from protocol.national_code import NationalCodeRefusal, parse_national_code

COLUMNS = ("national_code", "birth_date", "name", "status")
MAX_NAME_LENGTH = 100
MAX_PROBLEMS = 50
_JOINERS = frozenset("\u200c\u200d")


class RollProblemKind(enum.StrEnum):
    """Why a roll file, or one of its lines, was refused."""

    NOT_UTF8 = "not_utf8"
    BAD_HEADER = "bad_header"
    WRONG_FIELD_COUNT = "wrong_field_count"
    BAD_NATIONAL_CODE = "bad_national_code"
    BAD_BIRTH_DATE = "bad_birth_date"
    BAD_NAME = "bad_name"
    BAD_STATUS = "bad_status"
    REPEATED_NATIONAL_CODE = "repeated_national_code"
    EMPTY = "empty"


@dataclass(frozen=True)
class RollProblem:
    """A refused line: its number (1 is the header) and what is wrong. Never carries the national code."""

    line: int
    kind: RollProblemKind
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind.value} ({self.detail})"


@dataclass(frozen=True)
class RollRefused:
    """The roll was not accepted; nothing was loaded. At most MAX_PROBLEMS problems are listed."""

    problems: tuple[RollProblem, ...]


def read_roll(path: Path) -> list[VoterRecord] | RollRefused:
    """Every record of a roll file, or every problem found in it (up to MAX_PROBLEMS)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return parse_roll(handle)
    except UnicodeDecodeError as exc:
        return RollRefused((RollProblem(0, RollProblemKind.NOT_UTF8, f"byte {exc.start}"),))


def parse_roll(lines: Iterable[str]) -> list[VoterRecord] | RollRefused:
    """Parse CSV text with the header `national_code,birth_date,name,status`."""
    rows = csv.reader(lines, strict=True)
    header = next(rows, None)
    if header is None:
        return RollRefused((RollProblem(1, RollProblemKind.EMPTY, "no header"),))
    if tuple(cell.strip().lstrip("\ufeff") for cell in header) != COLUMNS:
        return RollRefused((RollProblem(1, RollProblemKind.BAD_HEADER, f"expected {','.join(COLUMNS)}"),))
    records: list[VoterRecord] = []
    problems: list[RollProblem] = []
    seen: set[str] = set()
    try:
        for row in rows:
            line = rows.line_num
            parsed = _parse_row(line, row)
            if isinstance(parsed, RollProblem):
                problems.append(parsed)
            elif parsed.national_code.digits in seen:
                problems.append(RollProblem(line, RollProblemKind.REPEATED_NATIONAL_CODE, "appears earlier"))
            else:
                seen.add(parsed.national_code.digits)
                records.append(parsed)
            if len(problems) >= MAX_PROBLEMS:
                break
    except csv.Error as exc:
        problems.append(RollProblem(rows.line_num, RollProblemKind.WRONG_FIELD_COUNT, str(exc)))
    if problems:
        return RollRefused(tuple(problems))
    return records


def write_roll(records: Iterable[VoterRecord], path: Path) -> int:
    """Write records as a roll file; returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow(
                [record.national_code.digits, record.birth_date.isoformat(), record.name, record.status.value]
            )
            count += 1
    return count


def _parse_row(line: int, row: list[str]) -> VoterRecord | RollProblem:
    if len(row) != len(COLUMNS):
        return RollProblem(line, RollProblemKind.WRONG_FIELD_COUNT, f"{len(row)} fields, expected {len(COLUMNS)}")
    code_text, birth_text, name, status_text = (cell.strip() for cell in row)
    code = parse_national_code(code_text)
    if isinstance(code, NationalCodeRefusal):
        return RollProblem(line, RollProblemKind.BAD_NATIONAL_CODE, code.problem.value)
    try:
        birth_date = date.fromisoformat(birth_text)
    except ValueError:
        return RollProblem(line, RollProblemKind.BAD_BIRTH_DATE, "expected YYYY-MM-DD")
    if len(birth_text) != 10:
        return RollProblem(line, RollProblemKind.BAD_BIRTH_DATE, "expected YYYY-MM-DD")
    if not name or len(name) > MAX_NAME_LENGTH or not _is_clean_name(name):
        return RollProblem(line, RollProblemKind.BAD_NAME, f"1 to {MAX_NAME_LENGTH} characters, no control characters")
    try:
        status = VoterStatus(status_text)
    except ValueError:
        return RollProblem(line, RollProblemKind.BAD_STATUS, f"one of {', '.join(s.value for s in VoterStatus)}")
    return VoterRecord(code, birth_date, name, status)


def _is_clean_name(name: str) -> bool:
    """No control or format characters, except the zero-width (non-)joiner Persian spelling needs."""
    return all(char in _JOINERS or not unicodedata.category(char).startswith("C") for char in name)
