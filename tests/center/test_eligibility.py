"""Who may vote on election day: status on the roll and the age of 18 on the day itself."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from center.eligibility import (
    VOTING_AGE,
    VoterRecord,
    VoterStatus,
    age_on,
    ineligible_reason,
    latest_birth_date_of_age,
)
from protocol.messages import IneligibleReason
from tests.center.sample import ADULT, ELECTION_DAY


def _record(birth: date, status: VoterStatus = VoterStatus.ELIGIBLE) -> VoterRecord:
    return VoterRecord(ADULT, birth, "علی رضایی", status)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2008, 6, 12), date(2026, 6, 12), 18),
        (date(2008, 6, 13), date(2026, 6, 12), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(1950, 12, 31), date(2026, 1, 1), 75),
    ],
)
def test_age_counts_whole_years_completed_on_the_day(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


def test_an_adult_on_the_roll_may_vote() -> None:
    assert ineligible_reason(_record(date(1980, 1, 1)), ELECTION_DAY) is None


def test_turning_eighteen_on_election_day_is_old_enough() -> None:
    assert ineligible_reason(_record(date(2008, 6, 12)), ELECTION_DAY) is None


def test_turning_eighteen_the_day_after_is_under_age() -> None:
    assert ineligible_reason(_record(date(2008, 6, 13)), ELECTION_DAY) is IneligibleReason.UNDER_AGE


@pytest.mark.parametrize(
    ("status", "reason"),
    [(VoterStatus.DECEASED, IneligibleReason.DECEASED), (VoterStatus.DISQUALIFIED, IneligibleReason.DISQUALIFIED)],
)
def test_a_non_eligible_status_is_ineligible_whatever_the_age(
    status: VoterStatus, reason: IneligibleReason
) -> None:
    assert ineligible_reason(_record(date(1960, 1, 1), status), ELECTION_DAY) is reason


def test_someone_not_on_the_roll_is_ineligible() -> None:
    assert ineligible_reason(None, ELECTION_DAY) is IneligibleReason.NOT_ON_ROLL


def test_a_voter_record_never_shows_the_national_code() -> None:
    record = _record(date(1980, 1, 1))
    assert ADULT.digits not in repr(record)
    assert ADULT.digits not in str(record)


@given(birth=hs.dates(date(1900, 1, 1), date(2030, 12, 31)), day=hs.dates(date(1990, 1, 1), date(2060, 12, 31)))
def test_the_latest_birth_date_of_age_agrees_with_the_age_rule(birth: date, day: date) -> None:
    """The registry's reserve statement admits a roll entry born on or before this date (center.storage.RollGate)."""
    assert (birth <= latest_birth_date_of_age(day)) == (age_on(birth, day) >= VOTING_AGE), (birth, day)


@pytest.mark.parametrize(("day", "latest"), [
    (date(2026, 6, 12), date(2008, 6, 12)),
    (date(2026, 2, 28), date(2008, 2, 28)),
    (date(2026, 3, 1), date(2008, 3, 1)),
    (date(2028, 2, 29), date(2010, 2, 28)),
    (date(2024, 2, 29), date(2006, 2, 28)),
])
def test_the_latest_birth_date_of_age_around_29_february(day: date, latest: date) -> None:
    assert latest_birth_date_of_age(day) == latest
