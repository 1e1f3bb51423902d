"""What the dashboard and the metrics read: the whole fleet at one moment, made by one pure function."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from center.fleet.alerts import Alert
from center.fleet.figures import BranchOpening, HourFigure, Totals, openings, per_hour, totals
from center.fleet.model import HourCounts, Outcome, RefusalReason, TerminalRecord
from center.fleet.rules import Colour, Finding, RuleSettings, colour_of, findings, worst


@dataclass(frozen=True)
class IntakeCounts:
    """Messages since the service started, by outcome, and those refused by reason."""

    outcomes: Mapping[Outcome, int]
    refused: Mapping[RefusalReason, int]
    unsaved: int = 0
    """Applied messages the store did not keep (down, or far behind): the view holds them, and each terminal's
    next report saves its record again."""


@dataclass(frozen=True)
class TerminalView:
    record: TerminalRecord
    colour: Colour
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class BranchView:
    branch: str
    colour: Colour
    findings: tuple[Finding, ...]
    """The branch's own (NOT_OPENED); its terminals' are on each terminal."""
    terminals: tuple[TerminalView, ...]


@dataclass(frozen=True)
class FleetSnapshot:
    district: str
    at: datetime
    branches: tuple[BranchView, ...]
    alerts: tuple[Alert, ...]
    """Live alerts and the recently closed, newest first."""
    openings: tuple[BranchOpening, ...]
    hours: tuple[HourFigure, ...]
    totals: Totals
    intake: IntakeCounts

    @property
    def terminals(self) -> tuple[TerminalView, ...]:
        return tuple(t for b in self.branches for t in b.terminals)


def snapshot_of(district: str, records: Iterable[TerminalRecord], hours: Iterable[HourCounts],
                alerts: Iterable[Alert], intake: IntakeCounts, settings: RuleSettings, since: datetime,
                now: datetime) -> FleetSnapshot:
    kept = sorted(records, key=lambda r: (r.branch, r.terminal))
    found = findings(kept, settings, since, now)
    by_subject: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in found:
        by_subject[(finding.subject.branch, finding.subject.terminal)].append(finding)
    terminals: dict[str, list[TerminalView]] = defaultdict(list)
    for record in kept:
        own = tuple(by_subject.get((record.branch, record.terminal), ()))
        terminals[record.branch].append(TerminalView(record, colour_of(own), own))
    branches = []
    for branch, views in sorted(terminals.items()):
        own = tuple(by_subject.get((branch, ""), ()))
        branches.append(BranchView(branch, worst([colour_of(own), *(v.colour for v in views)]), own, tuple(views)))
    ordered = sorted(alerts, key=lambda a: (a.closed_at is not None, -a.id))
    return FleetSnapshot(district, now, tuple(branches), tuple(ordered), tuple(openings(kept, settings, now)),
                         tuple(per_hour(hours)), totals(kept, settings, now), intake)
