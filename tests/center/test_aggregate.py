"""The district's aggregate: the sum of its branches whatever the order or repetition, with conflicts and flags."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as hs

from center.aggregate import BranchFlag, BranchMinutes, Flag, aggregate
from protocol.minutes import MinutesFigures
from tests.protocol.minutes_samples import BUNDLE, council, figures, president


def _branch(name: str, pres_votes: tuple[int, int, int], invalid: int, committed: int | None = None,
            closing: int | None = None) -> BranchMinutes:
    in_box = sum(pres_votes) + invalid
    pres = president(in_box, pres_votes, invalid, received=in_box + 50, used=in_box, spoiled=0, unused=50)
    cncl = dataclasses.replace(council(in_box, (0, 0, 0, 0, 0), invalid), received=in_box + 50, used=in_box,
                               spoiled=0, unused=50)
    shown = figures(pres=pres, cncl=cncl)
    slips = committed if committed is not None else in_box
    return BranchMinutes(name, f"T-{name}", _hash(shown), shown, slips, slips, closing)


def _hash(shown: MinutesFigures) -> str:
    return format(abs(hash(repr(shown))), "x")


branch_results = hs.lists(
    hs.tuples(hs.tuples(*(hs.integers(0, 400),) * 3), hs.integers(0, 30)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(results=branch_results, seed=hs.integers(0, 2**32 - 1))
def test_the_aggregate_is_the_sum_of_the_branches_in_any_order_or_repetition(
    results: list[tuple[tuple[int, int, int], int]], seed: int
) -> None:
    minutes = [_branch(f"B{n:02d}", votes, invalid) for n, (votes, invalid) in enumerate(results)]
    rng = random.Random(seed)
    arrivals = minutes + rng.sample(minutes, k=rng.randint(0, len(minutes)))
    rng.shuffle(arrivals)
    summed = aggregate(BUNDLE, [m.branch for m in minutes], arrivals)
    once = aggregate(BUNDLE, [m.branch for m in minutes], minutes)
    assert summed == once, "the order or repetition of arrival changed the aggregate"
    pres = summed.totals[0]
    assert dict(pres.votes) == {code: sum(v[i] for v, _ in results) for i, code in enumerate(("P1", "P2", "P3"))}
    assert pres.invalid == sum(invalid for _, invalid in results)
    assert pres.in_box == sum(sum(v) + i for v, i in results)
    assert summed.counted == tuple(m.branch for m in minutes) and summed.missing == () and summed.conflicts == ()


def test_a_second_different_set_for_a_branch_is_a_conflict_counted_in_neither_way() -> None:
    first = _branch("B01", (100, 50, 10), 5)
    second = _branch("B01", (10, 50, 100), 5)
    other = _branch("B02", (30, 30, 30), 0)
    result = aggregate(BUNDLE, ["B01", "B02", "B03"], [first, other, second])
    assert result.conflicts == ("B01",) and result.counted == ("B02",) and result.missing == ("B03",)
    assert dict(result.totals[0].votes) == {"P1": 30, "P2": 30, "P3": 30}
    conflict = [f for f in result.flags if f.flag is Flag.CONFLICT]
    assert conflict == [BranchFlag("B01", Flag.CONFLICT, "", ",".join(sorted([first.minutes_hash,
                                                                               second.minutes_hash])))]
    assert aggregate(BUNDLE, ["B01", "B02", "B03"], [second, other, first]) == result


def test_a_stuffed_box_and_a_count_that_differs_from_the_closing_report_are_flagged() -> None:
    stuffed = _branch("B01", (100, 50, 10), 5, committed=150)
    differs = _branch("B02", (30, 30, 30), 0, closing=91)
    result = aggregate(BUNDLE, ["B01", "B02"], [stuffed, differs])
    kinds = {(f.branch, f.flag) for f in result.flags}
    assert ("B01", Flag.BOX_OVER_SLIPS) in kinds and ("B01", Flag.FAILED_CHECK) in kinds
    assert ("B02", Flag.DIFFERS_FROM_CLOSING) in kinds
    assert result.counted == ("B01", "B02"), "a failed check is flagged, never dropped: the law lets it stand"


def test_minutes_not_shaped_by_the_bundle_are_flagged_and_left_out() -> None:
    odd = _branch("B01", (100, 50, 10), 5)
    odd = dataclasses.replace(odd, figures=dataclasses.replace(odd.figures, seals=()))
    result = aggregate(BUNDLE, ["B01"], [odd])
    assert result.counted == () and [f.flag for f in result.flags] == [Flag.NOT_CONFORMING]


def test_a_branch_far_from_the_districts_share_is_an_outlier() -> None:
    usual = [_branch(f"B{n:02d}", (100 + n, 80, 20), 5) for n in range(8)]
    odd = _branch("B99", (290, 5, 5), 5)
    result = aggregate(BUNDLE, [m.branch for m in [*usual, odd]], [*usual, odd])
    outliers = {(f.branch, f.flag) for f in result.flags if f.flag is Flag.SHARE_OUTLIER}
    assert outliers == {("B99", Flag.SHARE_OUTLIER)}


def test_too_few_branches_give_no_outlier_flags() -> None:
    few = [_branch("B01", (100, 80, 20), 5), _branch("B02", (290, 5, 5), 5)]
    result = aggregate(BUNDLE, ["B01", "B02"], few)
    assert not [f for f in result.flags if f.flag in {Flag.SHARE_OUTLIER, Flag.TURNOUT_OUTLIER}]


def test_minutes_of_another_bundle_or_before_the_closing_report_are_flagged_and_still_counted() -> None:
    other = dataclasses.replace(_branch("B01", (100, 50, 10), 5), bundle_hash="cd" * 32)
    early = dataclasses.replace(_branch("B02", (30, 30, 30), 0), bundle_hash="ab" * 32, before_closing=True)
    result = aggregate(BUNDLE, ["B01", "B02"], [other, early], bundle_hash="ab" * 32)
    assert {(f.branch, f.flag) for f in result.flags} == {("B01", Flag.OTHER_BUNDLE), ("B02", Flag.BEFORE_CLOSING)}
    assert result.counted == ("B01", "B02")
    assert not [f for f in aggregate(BUNDLE, ["B01"], [other]).flags if f.flag is Flag.OTHER_BUNDLE], \
        "without the district's bundle hash there is nothing to compare with"


def test_the_same_minutes_from_two_terminals_of_a_branch_give_one_aggregate_in_either_order() -> None:
    first = _branch("B01", (100, 50, 10), 5, closing=160)
    second = dataclasses.replace(first, terminal="T-B01-2", closing_issued=170)
    one_way = aggregate(BUNDLE, ["B01"], [first, second])
    assert one_way == aggregate(BUNDLE, ["B01"], [second, first])
    assert one_way.conflicts == () and one_way.counted == ("B01",)
