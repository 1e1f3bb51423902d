"""The synthetic roll: reproducible, valid and distinct codes, Persian names, ineligibles in the asked shares."""

from __future__ import annotations

from collections import Counter

import pytest

from center.eligibility import VoterStatus, ineligible_reason
from center.synthetic_roll import RollShares, generate_roll, stream_roll, unlisted_national_codes
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


def test_the_fast_roll_is_reproducible_valid_and_distinct() -> None:
    first = list(stream_roll(5000, 7, ELECTION_DAY))
    assert list(stream_roll(5000, 7, ELECTION_DAY)) == first
    assert list(stream_roll(5000, 8, ELECTION_DAY)) != first
    digits = [record.national_code.digits for record in first]
    assert len(set(digits)) == len(first) == 5000
    assert all(isinstance(parse_national_code(d), NationalCode) for d in digits)


def test_the_fast_roll_has_ineligibles_in_exactly_the_asked_shares_and_persian_names() -> None:
    shares = RollShares(deceased=0.05, disqualified=0.03, under_age=0.1)
    roll = list(stream_roll(1000, 5, ELECTION_DAY, shares))
    assert Counter(ineligible_reason(r, ELECTION_DAY) for r in roll) == {
        None: 820, IneligibleReason.DECEASED: 50, IneligibleReason.DISQUALIFIED: 30, IneligibleReason.UNDER_AGE: 100,
    }
    minors = [r for r in roll if ineligible_reason(r, ELECTION_DAY) is IneligibleReason.UNDER_AGE]
    assert {r.status for r in minors} == {VoterStatus.ELIGIBLE}
    assert min(r.birth_date for r in roll) > ELECTION_DAY.replace(year=ELECTION_DAY.year - 96)
    for record in roll[:100]:
        given, family = record.name.split(" ")
        assert all("\u0600" <= ch <= "\u06ff" or ch == "\u200c" for ch in given + family), record.name


@pytest.mark.parametrize("count", [0, 1, 2, 3, 10])
def test_the_fast_roll_makes_small_rolls_too(count: int) -> None:
    roll = list(stream_roll(count, 1, ELECTION_DAY))
    assert len({record.national_code for record in roll}) == count
