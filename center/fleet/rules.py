"""Alert rules: pure functions of the fleet's records, the district's settings and a moment; no I/O, no clock."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from center.fleet.model import BACKLOG_SAMPLES, TerminalRecord
from protocol.telemetry import LinkState

IRAN = ZoneInfo("Asia/Tehran")
"""The district's local time: the set hour of opening is a local hour."""
PRINTER_OUT = frozenset({"no_paper", "cover_open"})
"""The printer's status values (hal.printer.PrinterState) that stop slips: out of paper, cover open."""
PRINTER_LOW = "paper_low"
TAMPER = "tamper"
"""The open alarm kind a terminal reports for its tamper switch."""


class Condition(enum.StrEnum):
    """What is wrong with a terminal or a branch. Those in ALERTING open alerts; the others only colour it."""

    OFFLINE = "offline"
    NOT_OPENED = "not_opened"
    PRINTER = "printer"
    READER = "reader"
    CAMERA = "camera"
    CLOCK = "clock"
    BACKLOG = "backlog"
    TAMPER = "tamper"
    SOFTWARE = "software"
    PAPER_LOW = "paper_low"
    THROTTLED = "throttled"


class Colour(enum.StrEnum):
    """Worst first, so that `min` over severities is the worst."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"


_ORDER = {Colour.RED: 0, Colour.AMBER: 1, Colour.GREEN: 2}
SEVERITY: Mapping[Condition, Colour] = {
    Condition.OFFLINE: Colour.RED, Condition.NOT_OPENED: Colour.RED, Condition.PRINTER: Colour.RED,
    Condition.READER: Colour.RED, Condition.CAMERA: Colour.AMBER, Condition.CLOCK: Colour.AMBER,
    Condition.BACKLOG: Colour.AMBER, Condition.TAMPER: Colour.RED, Condition.SOFTWARE: Colour.RED,
    Condition.PAPER_LOW: Colour.AMBER, Condition.THROTTLED: Colour.AMBER,
}
ALERTING = frozenset(SEVERITY) - {Condition.PAPER_LOW, Condition.THROTTLED}


@dataclass(frozen=True)
class RuleSettings:
    """The district's thresholds: the issue's numbers by default."""

    election_day: date
    opening: time = time(7, 0)
    """The set hour of opening, local time; NOT_OPENED is due `opening_grace` after it."""
    opening_grace: timedelta = timedelta(minutes=5)
    offline_after: timedelta = timedelta(seconds=90)
    clock_offset_ms: int = 5_000
    approved_software: frozenset[str] = field(default_factory=frozenset)
    """The software hashes the district approved; empty: the rule is off (nothing approved yet)."""

    @property
    def opening_due(self) -> datetime:
        return datetime.combine(self.election_day, self.opening, IRAN) + self.opening_grace


@dataclass(frozen=True, order=True)
class Subject:
    """A terminal, or a whole branch (`terminal` empty)."""

    branch: str
    terminal: str = ""


@dataclass(frozen=True, order=True)
class Finding:
    """One condition of one subject now; `detail` is a status value or a number, never free text."""

    subject: Subject
    condition: Condition
    detail: str

    @property
    def key(self) -> tuple[Subject, Condition]:
        return self.subject, self.condition


def terminal_findings(record: TerminalRecord, settings: RuleSettings, since: datetime, now: datetime
                      ) -> list[Finding]:
    """Every condition of one terminal at `now`; `since`: when the center began to watch (a terminal never
    heard counts as silent from then)."""
    subject = Subject(record.branch, record.terminal)
    found = [Finding(subject, condition, detail) for condition, detail in _terminal(record, settings, since, now)]
    return sorted(found)


def _terminal(record: TerminalRecord, settings: RuleSettings, since: datetime, now: datetime
              ) -> Iterable[tuple[Condition, str]]:
    offline = _offline(record, settings, since, now)
    if offline is not None:
        yield Condition.OFFLINE, offline
    report = record.health
    if report is None:
        return
    components = {c.component: c for c in report.components}
    printer = components.get("printer")
    if printer is not None and (not printer.ok or printer.condition in PRINTER_OUT):
        yield Condition.PRINTER, printer.condition
    elif printer is not None and printer.condition == PRINTER_LOW:
        yield Condition.PAPER_LOW, printer.condition
    for name, condition in (("card_reader", Condition.READER), ("camera", Condition.CAMERA)):
        part = components.get(name)
        if part is not None and not part.ok:
            yield condition, part.condition
    if report.clock_offset_ms is not None and abs(report.clock_offset_ms) > settings.clock_offset_ms:
        yield Condition.CLOCK, str(report.clock_offset_ms)
    if backlog_growing(record.backlog):
        yield Condition.BACKLOG, str(record.backlog[-1])
    tampered = sum(a.count for a in report.alarms if a.kind == TAMPER)
    if tampered:
        yield Condition.TAMPER, str(tampered)
    if settings.approved_software and report.software_hash not in settings.approved_software:
        yield Condition.SOFTWARE, report.software_hash[:12]
    if report.throttled:
        yield Condition.THROTTLED, "throttled"


def _offline(record: TerminalRecord, settings: RuleSettings, since: datetime, now: datetime) -> str | None:
    """`will` (the broker said it left), `silent` (nothing heard for longer than allowed), `never_heard`."""
    if record.status is not None and record.status.state is LinkState.OFFLINE:
        left = record.status_heard_at or since
        return "will" if now - left > settings.offline_after else None
    if record.heard_at is None:
        return "never_heard" if now - since > settings.offline_after else None
    return "silent" if now - record.heard_at > settings.offline_after else None


def backlog_growing(samples: tuple[int, ...]) -> bool:
    """The outbox backlog grew over the last BACKLOG_SAMPLES reports: never fell, and ended higher."""
    if len(samples) < BACKLOG_SAMPLES:
        return False
    window = samples[-BACKLOG_SAMPLES:]
    return all(a <= b for a, b in itertools.pairwise(window)) and window[-1] > window[0]


def branch_findings(records: Iterable[TerminalRecord], settings: RuleSettings, now: datetime) -> list[Finding]:
    """A branch none of whose terminals has reported its polls open once the set hour and the grace are past."""
    opened: dict[str, bool] = {}
    for record in records:
        opened[record.branch] = opened.get(record.branch, False) or record.opened_at is not None
    if now < settings.opening_due:
        return []
    return [Finding(Subject(branch), Condition.NOT_OPENED, "not_opened")
            for branch, done in sorted(opened.items()) if not done]


def findings(records: Iterable[TerminalRecord], settings: RuleSettings, since: datetime, now: datetime
             ) -> list[Finding]:
    """Every condition of the fleet at `now`, in a stable order."""
    kept = list(records)
    found = [f for record in kept for f in terminal_findings(record, settings, since, now)]
    return sorted([*found, *branch_findings(kept, settings, now)])


def colour_of(found: Iterable[Finding]) -> Colour:
    """The worst severity among these findings; green with none."""
    return min((SEVERITY[f.condition] for f in found), key=_ORDER.__getitem__, default=Colour.GREEN)


def worst(colours: Iterable[Colour]) -> Colour:
    return min(colours, key=_ORDER.__getitem__, default=Colour.GREEN)
