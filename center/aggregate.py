"""The district's aggregation of its branches' minutes: totals per candidate, the missing, and the flags.

The result depends only on the set of minutes received, never on their order or repetition: the same minutes
twice count once, and a branch that sent two different sets is a conflict, flagged and counted in neither way
until the district settles it (the first is never silently replaced, nor the second silently dropped).
"""

from __future__ import annotations

import enum
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from protocol.minutes import Check, ElectionBundle, MinutesFigures, check_minutes, conformity

OUTLIER_SCORE = 3.5
"""A branch is an outlier when its modified z-score (Iglewicz and Hoaglin: 0.6745 × distance from the median /
median absolute deviation) passes this."""
OUTLIER_MIN_BRANCHES = 5
"""Fewer branches than this give no sound median to compare with: no outlier flags."""


@dataclass(frozen=True)
class BranchMinutes:
    """Minutes as the district received them (verified and parsed), with what the district knows of the branch."""

    branch: str
    terminal: str
    minutes_hash: str
    figures: MinutesFigures
    slips_issued: int
    """The terminal's own count, as its minutes say."""
    center_committed: int
    """The slips the registry holds committed for the branch."""
    closing_issued: int | None
    """The terminal's closing report's issued count, if it arrived."""
    bundle_hash: str = ""
    """The election bundle the minutes name (`Minutes.bundle_hash`); empty: not known."""
    before_closing: bool = False
    """They came before the terminal's closing report."""


class Flag(enum.StrEnum):
    NOT_CONFORMING = "not_conforming"
    FAILED_CHECK = "failed_check"
    BOX_OVER_SLIPS = "box_over_slips"
    DIFFERS_FROM_CLOSING = "differs_from_closing"
    CONFLICT = "conflict"
    TURNOUT_OUTLIER = "turnout_outlier"
    SHARE_OUTLIER = "share_outlier"
    OTHER_BUNDLE = "other_bundle"
    """The minutes name another election bundle than the district's."""
    BEFORE_CLOSING = "before_closing"
    """The minutes came before the terminal's closing report."""


@dataclass(frozen=True, order=True)
class BranchFlag:
    branch: str
    flag: Flag
    election: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ElectionTotal:
    election: str
    votes: tuple[tuple[str, int], ...]
    """Per candidate, in the bundle's order."""
    invalid: int
    in_box: int
    committed_slips: int


@dataclass(frozen=True)
class DistrictAggregate:
    counted: tuple[str, ...]
    """Branches whose minutes are in the totals."""
    missing: tuple[str, ...]
    conflicts: tuple[str, ...]
    totals: tuple[ElectionTotal, ...]
    flags: tuple[BranchFlag, ...]


def aggregate(bundle: ElectionBundle, branches: Iterable[str], received: Iterable[BranchMinutes],
              bundle_hash: str | None = None) -> DistrictAggregate:
    """`bundle_hash`: the hash of the district's signed bundle; minutes naming another are flagged OTHER_BUNDLE
    (and counted if their figures are shaped by `bundle`). Of the same minutes (one hash) from several terminals
    of a branch, the first by terminal name stands for them, so that the arrival order never matters."""
    expected = sorted(set(branches))
    by_branch: dict[str, dict[str, BranchMinutes]] = defaultdict(dict)
    for minutes in sorted(received, key=_standing):
        by_branch[minutes.branch].setdefault(minutes.minutes_hash, minutes)
    flags: list[BranchFlag] = []
    for sets in by_branch.values():
        flags.extend(flag for minutes in sets.values() for flag in _arrival_flags(minutes, bundle_hash))
    conflicts = sorted(branch for branch, sets in by_branch.items() if len(sets) > 1)
    flags.extend(BranchFlag(branch, Flag.CONFLICT, "", ",".join(sorted(by_branch[branch]))) for branch in conflicts)
    counted: dict[str, BranchMinutes] = {}
    for branch, sets in by_branch.items():
        if len(sets) != 1:
            continue
        (minutes,) = sets.values()
        refused = conformity(minutes.figures, bundle)
        if refused is not None:
            flags.append(BranchFlag(branch, Flag.NOT_CONFORMING, "", f"{refused.problem.value} at {refused.where}"))
            continue
        counted[branch] = minutes
        flags.extend(_branch_flags(bundle, minutes))
    totals = tuple(_total(bundle, code, counted.values()) for code in (e.code for e in bundle.elections))
    flags.extend(_outliers(bundle, counted))
    return DistrictAggregate(tuple(sorted(counted)), tuple(b for b in expected if b not in by_branch),
                             tuple(conflicts), totals, tuple(sorted(set(flags))))


def _standing(minutes: BranchMinutes) -> tuple[str, str, str, int, int, int, bool, str]:
    closing = -1 if minutes.closing_issued is None else minutes.closing_issued
    return (minutes.branch, minutes.minutes_hash, minutes.terminal, minutes.slips_issued, minutes.center_committed,
            closing, minutes.before_closing, minutes.bundle_hash)


def _arrival_flags(minutes: BranchMinutes, bundle_hash: str | None) -> list[BranchFlag]:
    flags: list[BranchFlag] = []
    if bundle_hash is not None and minutes.bundle_hash != bundle_hash:
        flags.append(BranchFlag(minutes.branch, Flag.OTHER_BUNDLE, "", minutes.bundle_hash or "none"))
    if minutes.before_closing:
        flags.append(BranchFlag(minutes.branch, Flag.BEFORE_CLOSING, "", minutes.terminal))
    return flags


def _branch_flags(bundle: ElectionBundle, minutes: BranchMinutes) -> list[BranchFlag]:
    """The checks made again by the district, with the center's own count of committed slips: more ballots in the
    box than slips the center committed (a stuffed box) has its own flag."""
    flags: list[BranchFlag] = []
    for result in check_minutes(minutes.figures, bundle, minutes.slips_issued, minutes.center_committed):
        if result.passed:
            continue
        if result.check is Check.BOX_WITHIN_CENTER:
            flags.append(BranchFlag(minutes.branch, Flag.BOX_OVER_SLIPS, result.election,
                                    f"{result.found} in the box, {result.bound} slips committed"))
        else:
            flags.append(BranchFlag(minutes.branch, Flag.FAILED_CHECK, result.election,
                                    f"{result.check.value}: {result.found} against {result.bound}"))
    if minutes.closing_issued is not None and minutes.closing_issued != minutes.slips_issued:
        flags.append(BranchFlag(minutes.branch, Flag.DIFFERS_FROM_CLOSING, "",
                                f"minutes {minutes.slips_issued} slips, closing report {minutes.closing_issued}"))
    return flags


def _total(bundle: ElectionBundle, code: str, counted: Iterable[BranchMinutes]) -> ElectionTotal:
    election = bundle.election(code)
    assert election is not None
    votes = dict.fromkeys((candidate.code for candidate in election.candidates), 0)
    invalid = in_box = committed = 0
    for minutes in counted:
        count = next(c for c in minutes.figures.counts if c.election == code)
        for entry in count.votes:
            votes[entry.candidate] += entry.votes
        invalid += count.invalid
        in_box += count.in_box
        committed += minutes.center_committed
    return ElectionTotal(code, tuple(votes.items()), invalid, in_box, committed)


def _outliers(bundle: ElectionBundle, counted: dict[str, BranchMinutes]) -> list[BranchFlag]:
    if len(counted) < OUTLIER_MIN_BRANCHES:
        return []
    flags: list[BranchFlag] = []
    for election in bundle.elections:
        counts = {branch: next(c for c in m.figures.counts if c.election == election.code)
                  for branch, m in counted.items()}
        turnout = {branch: count.in_box / counted[branch].center_committed
                   for branch, count in counts.items() if counted[branch].center_committed}
        flags.extend(BranchFlag(branch, Flag.TURNOUT_OUTLIER, election.code, f"box/slips {value:.2f}")
                     for branch, value in _far(turnout))
        for candidate in election.candidates:
            shares = {branch: count.votes_of(candidate.code) / (count.in_box - count.invalid)
                      for branch, count in counts.items() if count.in_box > count.invalid}
            flags.extend(BranchFlag(branch, Flag.SHARE_OUTLIER, election.code, f"{candidate.code} {value:.2f}")
                         for branch, value in _far(shares))
    return flags


def _far(values: dict[str, float]) -> list[tuple[str, float]]:
    """The values whose modified z-score passes OUTLIER_SCORE (none when the spread is nil)."""
    if len(values) < OUTLIER_MIN_BRANCHES:
        return []
    median = statistics.median(values.values())
    spread = statistics.median(abs(value - median) for value in values.values())
    if spread == 0:
        return []
    return sorted((branch, value) for branch, value in values.items()
                  if 0.6745 * abs(value - median) / spread > OUTLIER_SCORE)
