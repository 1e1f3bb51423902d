"""The district's figures from the fleet's records: slips and duplicates per hour, branch openings, totals (pure)."""

from __future__ import annotations

import dataclasses
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from center.fleet.model import HourCounts, TerminalRecord
from center.fleet.rules import IRAN, RuleSettings
from protocol.messages import CloseCounts
from protocol.telemetry import LinkState

COUNTERS = tuple(f.name for f in dataclasses.fields(CloseCounts))


class Opening(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    NOT_OPENED = "not_opened"
    """Past the set hour and the grace, and no terminal of the branch has reported its polls open."""
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class BranchOpening:
    branch: str
    opening: Opening
    opened_at: datetime | None


@dataclass(frozen=True)
class HourFigure:
    hour: datetime
    """The local hour's start (an aware time in UTC)."""
    issued: int
    duplicates_refused: int


@dataclass(frozen=True)
class Totals:
    """The district at a glance: terminals by link, branches by opening, and the day's counters summed."""

    terminals: int
    online: int
    offline: int
    never_heard: int
    branches: int
    openings: Mapping[Opening, int]
    counters: Mapping[str, int]


def hour_of(moment: datetime) -> datetime:
    """The start of the local hour `moment` falls in, as an aware UTC time."""
    local = moment.astimezone(IRAN)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def per_hour(hours: Iterable[HourCounts]) -> list[HourFigure]:
    """Slips issued and duplicates refused within each hour: each terminal's counters at the end of the hour
    less those at the end of its previous hour heard (a counter that fell, a new day, counts from zero)."""
    by_terminal: dict[str, list[HourCounts]] = defaultdict(list)
    for entry in hours:
        by_terminal[entry.terminal].append(entry)
    issued: dict[datetime, int] = defaultdict(int)
    duplicates: dict[datetime, int] = defaultdict(int)
    for entries in by_terminal.values():
        before = (0, 0)
        for entry in sorted(entries, key=lambda e: e.hour):
            now = (entry.issued, entry.duplicates_refused)
            issued[entry.hour] += now[0] - before[0] if now[0] >= before[0] else now[0]
            duplicates[entry.hour] += now[1] - before[1] if now[1] >= before[1] else now[1]
            before = now
    return [HourFigure(hour, issued[hour], duplicates[hour]) for hour in sorted(issued)]


def openings(records: Iterable[TerminalRecord], settings: RuleSettings, now: datetime) -> list[BranchOpening]:
    """Each branch's opening: when its first terminal reported the polls open, against the set hour's grace."""
    first: dict[str, datetime | None] = {}
    for record in records:
        known = first.get(record.branch)
        at = record.opened_at
        first[record.branch] = at if known is None else (known if at is None else min(known, at))
    due = settings.opening_due
    found = []
    for branch, at in sorted(first.items()):
        if at is not None:
            found.append(BranchOpening(branch, Opening.LATE if at > due else Opening.ON_TIME, at))
        else:
            found.append(BranchOpening(branch, Opening.NOT_OPENED if now >= due else Opening.NOT_DUE, None))
    return found


def totals(records: Iterable[TerminalRecord], settings: RuleSettings, now: datetime) -> Totals:
    kept = list(records)
    links = [r.link for r in kept]
    counters = dict.fromkeys(COUNTERS, 0)
    for record in kept:
        if record.health is not None:
            for name in COUNTERS:
                counters[name] += getattr(record.health.counters, name)
    by_opening = dict.fromkeys(Opening, 0)
    for opening in openings(kept, settings, now):
        by_opening[opening.opening] += 1
    return Totals(len(kept), links.count(LinkState.ONLINE), links.count(LinkState.OFFLINE), links.count(None),
                  len({r.branch for r in kept}), by_opening, counters)
