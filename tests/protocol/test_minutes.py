"""The minutes' shape against the bundle, and each check on the figures, both ways."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.minutes import Check, MinutesProblem, check_minutes, conformity
from tests.protocol.minutes_samples import BUNDLE, council, figures, president, votes_for


def _results(found: object) -> dict[tuple[Check, str], bool]:
    assert isinstance(found, tuple)
    return {(r.check, r.election): r.passed for r in found}


def test_sound_minutes_conform_and_pass_every_check() -> None:
    assert conformity(figures(), BUNDLE) is None
    results = check_minutes(figures(), BUNDLE, slips_issued=400, center_committed=400)
    assert len(results) == 8 and all(r.passed for r in results)


def test_the_papers_must_balance() -> None:
    short = check_minutes(figures(pres=president(unused=90)), BUNDLE, 400, 400)
    failed = [r for r in short if not r.passed]
    assert [(r.check, r.election, r.bound, r.found) for r in failed] == [(Check.PAPERS_BALANCE, "PRES", 500, 495)]


@pytest.mark.parametrize(("in_box", "votes", "invalid", "passes"), [
    (400, (200, 150, 40), 10, True), (401, (200, 150, 40), 10, False), (400, (200, 150, 41), 10, False),
    (400, (200, 150, 40), 9, False),
])
def test_one_name_the_box_equals_the_votes_and_the_invalid(
    in_box: int, votes: tuple[int, int, int], invalid: int, passes: bool
) -> None:
    results = _results(check_minutes(figures(pres=president(in_box, votes, invalid)), BUNDLE, 1000, 1000))
    assert results[(Check.BOX_MATCHES_VOTES, "PRES")] is passes


@pytest.mark.parametrize(("votes", "invalid", "passes"), [
    ((300, 250, 200, 150, 100), 20, True), ((380,) * 3 + (0, 0), 20, True), ((380,) * 3 + (1, 0), 20, False),
    ((0,) * 5, 401, False),
])
def test_several_names_the_votes_stay_within_the_valid_ballots_times_the_seats(
    votes: tuple[int, ...], invalid: int, passes: bool
) -> None:
    results = _results(check_minutes(figures(cncl=council(400, votes, invalid)), BUNDLE, 1000, 1000))
    assert results[(Check.BOX_MATCHES_VOTES, "CNCL")] is passes


def test_a_box_over_the_slips_fails_both_the_terminals_and_the_centers_count() -> None:
    results = _results(check_minutes(figures(), BUNDLE, slips_issued=399, center_committed=380))
    assert not results[(Check.BOX_WITHIN_SLIPS, "PRES")] and not results[(Check.BOX_WITHIN_CENTER, "PRES")]
    assert results[(Check.PAPERS_BALANCE, "PRES")], "the other checks are made all the same"


def test_without_the_centers_count_that_check_is_not_made() -> None:
    results = check_minutes(figures(), BUNDLE, slips_issued=400, center_committed=None)
    assert Check.BOX_WITHIN_CENTER not in {r.check for r in results}


def test_a_candidate_not_in_the_bundle_is_refused() -> None:
    stray = dataclasses.replace(president(), votes=votes_for(("P1", "P2", "X9"), (200, 150, 40)))
    refused = conformity(figures(pres=stray), BUNDLE)
    assert refused is not None and refused.problem is MinutesProblem.CANDIDATES_DIFFER


@pytest.mark.parametrize(("changed", "problem"), [
    (figures(seals=()), MinutesProblem.NO_SEALS),
    (figures(seals=tuple(f"S{n}" for n in range(9))), MinutesProblem.TOO_MANY_SEALS),
    (figures(seals=("s-1001",)), MinutesProblem.BAD_SEAL),
    (dataclasses.replace(figures(), counts=(president(),)), MinutesProblem.ELECTIONS_DIFFER),
    (dataclasses.replace(figures(), counts=(council(), president())), MinutesProblem.ELECTIONS_DIFFER),
    (figures(pres=president(in_box=100_001)), MinutesProblem.OUT_OF_RANGE),
    (figures(pres=president(votes=(-1, 150, 40))), MinutesProblem.OUT_OF_RANGE),
])
def test_figures_not_shaped_by_the_bundle_are_refused(changed: object, problem: MinutesProblem) -> None:
    refused = conformity(changed, BUNDLE)  # type: ignore[arg-type]
    assert refused is not None and refused.problem is problem


def test_in_a_branch_of_several_terminals_the_centers_count_is_the_bound() -> None:
    """The center counts more committed slips for the branch than this terminal issued: the other terminals'
    voters' ballots are in the same box, so only the center's count bounds it."""
    results = _results(check_minutes(figures(), BUNDLE, slips_issued=150, center_committed=400))
    assert (Check.BOX_WITHIN_SLIPS, "PRES") not in results and results[(Check.BOX_WITHIN_CENTER, "PRES")]
    over = _results(check_minutes(figures(), BUNDLE, slips_issued=150, center_committed=399))
    assert not over[(Check.BOX_WITHIN_CENTER, "PRES")], "a box above the branch's count still fails"


def test_a_center_count_below_the_terminals_own_keeps_both_checks() -> None:
    results = _results(check_minutes(figures(), BUNDLE, slips_issued=399, center_committed=300))
    assert not results[(Check.BOX_WITHIN_SLIPS, "PRES")] and not results[(Check.BOX_WITHIN_CENTER, "PRES")]
