"""The synthetic roll: reproducible, valid and distinct codes, Persian names, ineligibles in the asked shares."""

from __future__ import annotations

from collections import Counter

import pytest

from center.eligibility import VoterStatus, ineligible_reason
from center.synthetic_roll import RollShares, generate_roll, unlisted_national_codes
from protocol.messages import IneligibleReason
from protocol.national_code import NationalCode, parse_national_code
from tests.center.sample import ELECTION_DAY


def test_the_same_seed_gives_the_same_roll_and_another_seed_another() -> None:
    first = generate_roll(200, 7, ELECTION_DAY)
    assert generate_roll(200, 7, ELECTION_DAY) == first
    assert generate_roll(200, 8, ELECTION_DAY) != first


def test_every_national_code_is_valid_and_distinct() -> None:
    roll = generate_roll(2000, 3, ELECTION_DAY)
    digits = [record.national_code.digits for record in roll]
    assert len(set(digits)) == len(roll) == 2000
    assert all(isinstance(parse_national_code(d), NationalCode) for d in digits)


def test_ineligible_records_come_in_exactly_the_asked_shares() -> None:
    shares = RollShares(deceased=0.05, disqualified=0.03, under_age=0.1)
    reasons = Counter(ineligible_reason(r, ELECTION_DAY) for r in generate_roll(1000, 5, ELECTION_DAY, shares))
    assert reasons == {
        None: 820,
        IneligibleReason.DECEASED: 50,
        IneligibleReason.DISQUALIFIED: 30,
        IneligibleReason.UNDER_AGE: 100,
    }


def test_minors_are_marked_eligible_and_refused_only_for_their_age() -> None:
    minors = [r for r in generate_roll(500, 9, ELECTION_DAY) if ineligible_reason(r, ELECTION_DAY)
              is IneligibleReason.UNDER_AGE]
    assert minors
    assert {r.status for r in minors} == {VoterStatus.ELIGIBLE}


def test_names_are_persian_given_and_family_names() -> None:
    for record in generate_roll(100, 11, ELECTION_DAY):
        given, family = record.name.split(" ")
        assert all("\u0600" <= ch <= "\u06ff" or ch == "\u200c" for ch in given + family), record.name


def test_unlisted_codes_are_valid_and_not_on_the_roll() -> None:
    roll = generate_roll(300, 2, ELECTION_DAY)
    unlisted = unlisted_national_codes(50, 2, roll)
    on_roll = {r.national_code for r in roll}
    assert len(set(unlisted)) == 50
    assert not on_roll & set(unlisted)
    assert all(isinstance(parse_national_code(c.digits), NationalCode) for c in unlisted)


@pytest.mark.parametrize("shares", [(-0.1, 0.0, 0.0), (0.5, 0.5, 0.1)])
def test_impossible_shares_are_refused(shares: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="shares"):
        RollShares(*shares)
