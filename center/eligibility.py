"""Who may vote: the roll's record of a voter and the rules that make them eligible on election day."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from protocol.messages import IneligibleReason
from protocol.national_code import NationalCode

VOTING_AGE = 18


class VoterStatus(enum.StrEnum):
    """A voter's status on the roll."""

    ELIGIBLE = "eligible"
    DECEASED = "deceased"
    DISQUALIFIED = "disqualified"


@dataclass(frozen=True)
class VoterRecord:
    """One line of the voter roll. Its repr hides the national code, like NationalCode's own."""

    national_code: NationalCode
    birth_date: date
    name: str
    status: VoterStatus


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on `day`; someone born on 29 February comes of age on 1 March."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def latest_birth_date_of_age(day: date) -> date:
    """The latest birth date of someone of voting age on `day`: born on or before it, of age (the same rule as
    age_on, for a database to apply: tests/center/test_eligibility.py checks they agree)."""
    try:
        return day.replace(year=day.year - VOTING_AGE)
    except ValueError:  # 29 February, VOTING_AGE years back, is no date: those born on the 28th are of age
        return day.replace(year=day.year - VOTING_AGE, day=28)


def ineligible_reason(record: VoterRecord | None, election_day: date) -> IneligibleReason | None:
    """Why this voter may not vote on `election_day`, or None when they may."""
    if record is None:
        return IneligibleReason.NOT_ON_ROLL
    match record.status:
        case VoterStatus.DECEASED:
            return IneligibleReason.DECEASED
        case VoterStatus.DISQUALIFIED:
            return IneligibleReason.DISQUALIFIED
        case VoterStatus.ELIGIBLE:
            return IneligibleReason.UNDER_AGE if age_on(record.birth_date, election_day) < VOTING_AGE else None
        case _ as unreachable:
            assert_never(unreachable)
