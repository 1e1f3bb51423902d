"""Inquiry code (کد استعلام): unpredictable, nine digits to copy by hand, Verhoeff check digit."""

from __future__ import annotations

import secrets

from stdnum import verhoeff

BODY_DIGITS = 8
LENGTH = BODY_DIGITS + 1


def new_inquiry_code() -> str:
    """Eight random digits from the OS's CSPRNG plus a Verhoeff check digit (catches typos and swaps)."""
    body = f"{secrets.randbelow(10**BODY_DIGITS):0{BODY_DIGITS}d}"
    return body + verhoeff.calc_check_digit(body)


def is_valid_inquiry_code(code: str) -> bool:
    """True for nine ASCII digits whose last is the Verhoeff check digit of the rest."""
    if len(code) != LENGTH or not code.isascii() or not code.isdigit():
        return False
    return bool(verhoeff.is_valid(code))


def group_inquiry_code(code: str) -> str:
    """Present a code as three groups of three for copying by hand: 123-456-789."""
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))
