"""National code (کد ملی): digit normalisation, check-digit validation and refusals that say why."""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from protocol.printable import printable

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(_PERSIAN_DIGITS + _ARABIC_INDIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _PERSIAN_DIGITS)

LENGTH = 10


class NationalCodeProblem(enum.Enum):
    """Why a typed or issued national code was refused."""

    EMPTY = "empty"
    NOT_A_DIGIT = "not_a_digit"
    WRONG_LENGTH = "wrong_length"
    ALL_SAME_DIGITS = "all_same_digits"
    CHECK_DIGIT = "check_digit"


@dataclass(frozen=True)
class NationalCodeRefusal:
    """A refused input: the problem, and where it lies (the terminal's texts say it in Persian)."""

    problem: NationalCodeProblem
    character: str = ""
    """The offending character, made printable (NOT_A_DIGIT)."""
    position: int = 0
    """Its place, counted from 1 (NOT_A_DIGIT)."""
    count: int = 0
    """How many characters were given (WRONG_LENGTH)."""


@dataclass(frozen=True)
class NationalCode:
    """A valid national code. Its repr never shows the digits, so it cannot leak into logs."""

    digits: str

    def __repr__(self) -> str:
        return "NationalCode(<redacted>)"

    __str__ = __repr__


def to_ascii_digits(text: str) -> str:
    """Map Persian and Arabic-Indic digits to ASCII; other characters are left as they are."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    """Render ASCII digits as Persian digits for people to read."""
    return text.translate(_TO_PERSIAN)


def check_digit(first_nine: str) -> int:
    """The check digit of a national code from its first nine ASCII digits."""
    total = sum(int(d) * (LENGTH - i) for i, d in enumerate(first_nine))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def parse_national_code(text: str) -> NationalCode | NationalCodeRefusal:
    """Validate what the operator typed (or the camera read from a barcode): surrounding white space is
    dropped, and Persian, Arabic-Indic and ASCII digits are all accepted."""
    return _validate(to_ascii_digits(text.strip()))


def parse_issued_national_code(text: str) -> NationalCode | NationalCodeRefusal:
    """Validate the national code the issuer signed on the chip: exactly 10 ASCII digits, as the card
    profile says; nothing is stripped or translated, so any other character refuses it."""
    return _validate(text)


def _validate(digits: str) -> NationalCode | NationalCodeRefusal:
    if not digits:
        return NationalCodeRefusal(NationalCodeProblem.EMPTY)
    for position, char in enumerate(digits, start=1):
        if not ("0" <= char <= "9"):
            return NationalCodeRefusal(NationalCodeProblem.NOT_A_DIGIT, character=printable(char), position=position)
    if len(digits) != LENGTH:
        return NationalCodeRefusal(NationalCodeProblem.WRONG_LENGTH, count=len(digits))
    if len(set(digits)) == 1:
        return NationalCodeRefusal(NationalCodeProblem.ALL_SAME_DIGITS)
    if check_digit(digits[:9]) != int(digits[9]):
        return NationalCodeRefusal(NationalCodeProblem.CHECK_DIGIT)
    return NationalCode(digits)


def keyed_hash(key: bytes, code: NationalCode) -> str:
    """The only form in which a national code is kept at rest: HMAC-SHA256 under a secret key."""
    return hmac.new(key, code.digits.encode("ascii"), hashlib.sha256).hexdigest()


def complete_national_code(first_nine: str) -> str:
    """Append the check digit to nine ASCII digits (for synthetic rolls and tests)."""
    return first_nine + str(check_digit(first_nine))

