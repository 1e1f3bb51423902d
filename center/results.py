"""The district's results: what the center received and knows of each branch, and the aggregate over it (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from center.aggregate import BranchMinutes, DistrictAggregate, aggregate
from protocol.minutes import ElectionBundle, Minutes


@dataclass(frozen=True)
class ReceivedMinutes:
    """One set of minutes the center holds (training minutes never come here): from which terminal of which
    branch, in which transaction, the minutes and their hash, when they came and whether the terminal's closing
    report had come by then."""

    branch: str
    terminal: str
    tx_id: str
    minutes_hash: str
    minutes: Minutes
    received_at: datetime
    before_closing: bool


@dataclass(frozen=True)
class DistrictResults:
    """Everything the district's aggregate is made of, and the aggregate: the bundle and its hash, the enrolled
    branches, the slips committed per branch, each terminal's closing report's issued count, the minutes."""

    district: str
    bundle: ElectionBundle
    bundle_hash: str
    branches: tuple[str, ...]
    committed: tuple[tuple[str, int], ...]
    """Per branch (every enrolled branch and every branch with minutes), sorted by branch."""
    closing: tuple[tuple[str, int], ...]
    """Per terminal whose closing report came, sorted by terminal."""
    received: tuple[ReceivedMinutes, ...]
    """Sorted by branch, terminal and hash."""
    aggregate: DistrictAggregate

    def committed_of(self, branch: str) -> int:
        return dict(self.committed).get(branch, 0)

    @property
    def committed_total(self) -> int:
        return sum(count for _, count in self.committed)


def district_results(district: str, bundle: ElectionBundle, bundle_hash: str, branches: Iterable[str],
                     committed: Mapping[str, int], closing: Mapping[str, int], received: Iterable[ReceivedMinutes]
                     ) -> DistrictResults:
    """The aggregate of `received` (center.aggregate, by the district's bundle) with what it was made of; the
    same inputs in any order give the same results."""
    held = tuple(sorted(received, key=lambda r: (r.branch, r.terminal, r.minutes_hash, r.tx_id)))
    expected = tuple(sorted(set(branches)))
    everywhere = sorted(set(expected) | {r.branch for r in held})
    counts = tuple((branch, committed.get(branch, 0)) for branch in everywhere)
    per_branch = dict(counts)
    minutes = [BranchMinutes(r.branch, r.terminal, r.minutes_hash, r.minutes.figures, r.minutes.slips_issued,
                             per_branch[r.branch], closing.get(r.terminal), r.minutes.bundle_hash, r.before_closing)
               for r in held]
    result = aggregate(bundle, expected, minutes, bundle_hash)
    return DistrictResults(district, bundle, bundle_hash, expected, counts, tuple(sorted(closing.items())), held,
                           result)


def closing_issued(detail: str) -> int | None:
    """The issued count of a closing report as the registry keeps it (the CloseBody's JSON), or None if it does
    not read as one."""
    try:
        counts = json.loads(detail)["counts"]
        issued = counts["issued"]
    except (ValueError, KeyError, TypeError):
        return None
    return issued if type(issued) is int and issued >= 0 else None


def turnout_percent(in_box: int, committed: int) -> str | None:
    """Ballots in the box per 100 slips committed, rounded to two decimals (None with no slips): exact, never a
    float."""
    if committed == 0:
        return None
    hundredths = (in_box * 10_000 + committed // 2) // committed
    return f"{hundredths // 100}.{hundredths % 100:02d}"
