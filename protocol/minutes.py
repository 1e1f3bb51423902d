"""The branch minutes (صورتجلسه): the election bundle they count for, their figures, and the checks on them.

Both the terminal (before sending) and the district (at aggregation) run the same checks, so they live here,
in the one package the two share. A failed check never stops the officials: it is recorded with the minutes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

MAX_FIGURE = 100_000
"""No figure of one branch's minutes can exceed this (a branch serves a few thousand voters at most)."""
MAX_SEALS = 8
MAX_ELECTIONS = 8
MAX_CANDIDATES = 600
"""A large city's council lists some hundreds of candidates."""
MAX_SEATS = 50
SEAL_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")
CODE_PATTERN = r"[A-Z0-9][A-Z0-9-]{0,15}"


def _code() -> dict[str, object]:
    return {"pattern": CODE_PATTERN}


def _figure() -> dict[str, object]:
    return {"min": 0, "max": MAX_FIGURE}


class CountKind(enum.StrEnum):
    """How a ballot is counted: one name (president) or up to `seats` names (a council)."""

    ONE_NAME = "one_name"
    SEVERAL_NAMES = "several_names"


@dataclass(frozen=True)
class Candidate:
    code: str = field(metadata=_code())
    name: str = field(metadata={"max_length": 120})


@dataclass(frozen=True)
class Election:
    code: str = field(metadata=_code())
    title: str = field(metadata={"max_length": 120})
    kind: CountKind
    seats: int = field(metadata={"min": 1, "max": MAX_SEATS})
    candidates: tuple[Candidate, ...] = field(metadata={"min_items": 1, "max_items": MAX_CANDIDATES})


@dataclass(frozen=True)
class ElectionBundle:
    """What a district's branches count for on the day, signed by the district."""

    district: str = field(metadata={"pattern": r"[A-Za-z0-9][A-Za-z0-9-]{0,31}"})
    elections: tuple[Election, ...] = field(metadata={"min_items": 1, "max_items": MAX_ELECTIONS})

    def election(self, code: str) -> Election | None:
        return next((election for election in self.elections if election.code == code), None)


@dataclass(frozen=True)
class CandidateVotes:
    candidate: str = field(metadata=_code())
    votes: int = field(metadata=_figure())


COUNT_FIGURES = ("received", "used", "spoiled", "unused", "in_box", "invalid")
"""An election count's figures besides the votes, in the order of the form and the printed minutes."""


@dataclass(frozen=True)
class ElectionCount:
    """One election's figures in a branch: the ballot papers, the box, and the votes per candidate (in the
    bundle's order of candidates)."""

    election: str = field(metadata=_code())
    received: int = field(metadata=_figure())
    used: int = field(metadata=_figure())
    spoiled: int = field(metadata=_figure())
    unused: int = field(metadata=_figure())
    in_box: int = field(metadata=_figure())
    invalid: int = field(metadata=_figure())
    votes: tuple[CandidateVotes, ...] = field(metadata={"max_items": MAX_CANDIDATES})

    def figures(self) -> Iterator[tuple[str, int]]:
        """Every number of the count, named as the officials see it on the form."""
        yield from ((name, getattr(self, name)) for name in COUNT_FIGURES)
        yield from ((f"votes.{entry.candidate}", entry.votes) for entry in self.votes)

    def votes_of(self, candidate: str) -> int:
        return next((entry.votes for entry in self.votes if entry.candidate == candidate), 0)


@dataclass(frozen=True)
class MinutesFigures:
    """What the officials entered: the box's seal numbers and each election's count."""

    seals: tuple[str, ...] = field(metadata={"max_items": MAX_SEALS + 1, "max_length": 20})
    counts: tuple[ElectionCount, ...] = field(metadata={"max_items": MAX_ELECTIONS})


class MinutesProblem(enum.StrEnum):
    """Why figures cannot be minutes of this bundle at all (refused, unlike a failed check)."""

    NO_SEALS = "no_seals"
    TOO_MANY_SEALS = "too_many_seals"
    BAD_SEAL = "bad_seal"
    ELECTIONS_DIFFER = "elections_differ"
    CANDIDATES_DIFFER = "candidates_differ"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class MinutesRefused:
    problem: MinutesProblem
    where: str


def conformity(figures: MinutesFigures, bundle: ElectionBundle) -> MinutesRefused | None:
    """None when the figures are shaped by the bundle: each election once and in order, each of its candidates
    once and in order (no candidate the bundle does not name), every number within 0..MAX_FIGURE."""
    if not figures.seals:
        return MinutesRefused(MinutesProblem.NO_SEALS, "seals")
    if len(figures.seals) > MAX_SEALS:
        return MinutesRefused(MinutesProblem.TOO_MANY_SEALS, "seals")
    for index, seal in enumerate(figures.seals):
        if not SEAL_PATTERN.fullmatch(seal):
            return MinutesRefused(MinutesProblem.BAD_SEAL, f"seals[{index}]")
    if [count.election for count in figures.counts] != [election.code for election in bundle.elections]:
        return MinutesRefused(MinutesProblem.ELECTIONS_DIFFER, "counts")
    for count, election in zip(figures.counts, bundle.elections, strict=True):
        if [entry.candidate for entry in count.votes] != [candidate.code for candidate in election.candidates]:
            return MinutesRefused(MinutesProblem.CANDIDATES_DIFFER, f"counts.{count.election}.votes")
        for name, value in count.figures():
            if not 0 <= value <= MAX_FIGURE:
                return MinutesRefused(MinutesProblem.OUT_OF_RANGE, f"counts.{count.election}.{name}")
    return None


class Check(enum.StrEnum):
    PAPERS_BALANCE = "papers_balance"
    """Ballot papers used + spoiled + unused = received."""
    BOX_MATCHES_VOTES = "box_matches_votes"
    """One name: ballots in the box = the candidates' votes + invalid. Several names: invalid ≤ in the box, and
    the votes ≤ the valid ballots × seats."""
    BOX_WITHIN_SLIPS = "box_within_slips"
    """Ballots in the box ≤ the slips this terminal issued (from its journal). Not made when the center counts
    more committed slips for the branch than this terminal issued: the branch has other terminals, its box holds
    their voters' ballots too, and the center's count is the bound."""
    BOX_WITHIN_CENTER = "box_within_center"
    """Ballots in the box ≤ the slips the center holds committed for the branch."""


MAX_CHECKED = MAX_FIGURE * MAX_SEATS
"""The largest figure a check compares (the votes of a several-names count: valid ballots × seats)."""


def _checked() -> dict[str, object]:
    return {"min": 0, "max": MAX_CHECKED}


@dataclass(frozen=True)
class CheckResult:
    """One check on one election: `found` against `bound` (equal to it, or not above it, as the check says)."""

    check: Check
    election: str = field(metadata=_code())
    passed: bool
    bound: int = field(metadata=_checked())
    found: int = field(metadata=_checked())


OFFICIAL_PATTERN = r"[a-z][a-z0-9_-]{0,31}"
HASH_PATTERN = r"[0-9a-f]{64}"


@dataclass(frozen=True)
class Minutes:
    """The branch minutes as the terminal records, prints, signs and sends them: the figures the two officials
    entered alike, who they were, the slips the terminal issued and the center's committed count known at
    closing, and every check's result (a failed check is recorded, never a reason to refuse)."""

    bundle_hash: str = field(metadata={"pattern": HASH_PATTERN})
    """SHA-256 of the signed election bundle the figures are shaped by."""
    figures: MinutesFigures
    officials: tuple[str, ...] = field(metadata={"min_items": 2, "max_items": 2, "pattern": OFFICIAL_PATTERN})
    slips_issued: int = field(metadata=_figure())
    center_committed: int | None = field(metadata=_figure())
    checks: tuple[CheckResult, ...] = field(metadata={"max_items": 4 * MAX_ELECTIONS})
    entered_at: datetime
    training: bool
    offline_slips: int = field(default=0, metadata=_figure())
    """Of `slips_issued`, the OFFLINE slips under a district permit: the center reconciles them afterwards, and a
    double vote found there is a ballot in the box without a committed slip."""

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.checks if not result.passed)


def check_minutes(figures: MinutesFigures, bundle: ElectionBundle, slips_issued: int,
                  center_committed: int | None) -> tuple[CheckResult, ...]:
    """Every check on every election; `center_committed` is None where the center's count is not known yet
    (the terminal offline at closing), and that check is then not made. The terminal's own bound is not made
    when the center's count is above it (a branch of several terminals, see Check.BOX_WITHIN_SLIPS)."""
    results: list[CheckResult] = []
    for count in figures.counts:
        election = bundle.election(count.election)
        seats = election.seats if election is not None else 1
        kind = election.kind if election is not None else CountKind.ONE_NAME
        code = count.election
        papers = count.used + count.spoiled + count.unused
        results.append(CheckResult(Check.PAPERS_BALANCE, code, papers == count.received, count.received, papers))
        votes = sum(entry.votes for entry in count.votes)
        if kind is CountKind.ONE_NAME:
            marked = votes + count.invalid
            results.append(CheckResult(Check.BOX_MATCHES_VOTES, code, marked == count.in_box, count.in_box, marked))
        else:
            bound = max(count.in_box - count.invalid, 0) * seats
            passed = count.invalid <= count.in_box and votes <= bound
            results.append(CheckResult(Check.BOX_MATCHES_VOTES, code, passed, bound, votes))
        if center_committed is None or center_committed <= slips_issued:
            results.append(CheckResult(Check.BOX_WITHIN_SLIPS, code, count.in_box <= slips_issued, slips_issued,
                                       count.in_box))
        if center_committed is not None:
            results.append(CheckResult(Check.BOX_WITHIN_CENTER, code, count.in_box <= center_committed,
                                       center_committed, count.in_box))
    return tuple(results)
