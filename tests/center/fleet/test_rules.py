"""Property tests of the alert rules and the alerts' lives: pure functions of records, settings and a moment."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as hs

from center.fleet.alerts import Alert, AlertState, reconcile
from center.fleet.figures import Opening, openings, per_hour
from center.fleet.model import HourCounts, TerminalRecord
from center.fleet.rules import (
    ALERTING,
    IRAN,
    PRINTER_OUT,
    SEVERITY,
    Colour,
    Condition,
    Finding,
    RuleSettings,
    backlog_growing,
    branch_findings,
    colour_of,
    findings,
    terminal_findings,
)
from protocol.telemetry import LinkState
from tests.center.fleet.samples import APPROVED, Terminal

DAY = date(2026, 11, 29)
RULES = RuleSettings(DAY, time(7, 0), approved_software=frozenset({APPROVED}))
SINCE = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
PRINTER_STATES = ["ready", "paper_low", "no_paper", "cover_open", "offline", "disconnected", "error"]


@hs.composite
def records(draw: hs.DrawFn, terminal: str = "T-1", branch: str = "B-1") -> TerminalRecord:
    """A terminal as the district may hold it: never heard, online with a report, or gone with its will."""
    sample = Terminal(terminal, branch, "D-1", birth=draw(hs.integers(1, 5)))
    if draw(hs.booleans()) and draw(hs.booleans()):
        return TerminalRecord(terminal, branch, "D-1")
    printer = draw(hs.sampled_from(PRINTER_STATES))
    report = sample.health(printer=printer, printer_ok=printer in ("ready", "paper_low"),
                           reader_ok=draw(hs.booleans()), camera_ok=draw(hs.booleans()),
                           clock_offset_ms=draw(hs.one_of(hs.none(), hs.integers(-20_000, 20_000))),
                           tamper=draw(hs.integers(0, 2)), throttled=draw(hs.one_of(hs.none(), hs.booleans())),
                           software_hash=draw(hs.sampled_from([APPROVED, "c" * 64])))
    heard = SINCE + timedelta(seconds=draw(hs.integers(0, 7200)))
    state = draw(hs.sampled_from(LinkState))
    return TerminalRecord(terminal, branch, "D-1", sample.status(state), heard, report, heard,
                          heard if draw(hs.booleans()) else None,
                          tuple(draw(hs.lists(hs.integers(0, 50), max_size=4))))


moments = hs.integers(0, 10_000).map(lambda s: SINCE + timedelta(seconds=s))


def _conditions(found: list[Finding]) -> set[Condition]:
    return {f.condition for f in found}


@given(records(), moments)
@settings(max_examples=300)
def test_offline_is_exactly_more_than_90_seconds_without_word_or_since_the_will(record: TerminalRecord,
                                                                               now: datetime) -> None:
    offline = Condition.OFFLINE in _conditions(terminal_findings(record, RULES, SINCE, now))
    last = record.status_heard_at if record.link is LinkState.OFFLINE else record.heard_at
    assert offline == (now - (last or SINCE) > timedelta(seconds=90))


@given(records(), moments, hs.integers(0, 5000))
def test_once_offline_a_terminal_stays_offline_until_it_is_heard(record: TerminalRecord, now: datetime,
                                                                  later: int) -> None:
    if Condition.OFFLINE in _conditions(terminal_findings(record, RULES, SINCE, now)):
        after = terminal_findings(record, RULES, SINCE, now + timedelta(seconds=later))
        assert Condition.OFFLINE in _conditions(after)


@given(records(), moments)
@settings(max_examples=300)
def test_each_report_rule_fires_exactly_on_its_condition(record: TerminalRecord, now: datetime) -> None:
    found = _conditions(terminal_findings(record, RULES, SINCE, now))
    report = record.health
    if report is None:
        assert found <= {Condition.OFFLINE}
        return
    parts = {c.component: c for c in report.components}
    printer = parts["printer"]
    assert (Condition.PRINTER in found) == (printer.condition in PRINTER_OUT or not printer.ok)
    assert (Condition.READER in found) == (not parts["card_reader"].ok)
    assert (Condition.CAMERA in found) == (not parts["camera"].ok)
    offset = report.clock_offset_ms
    assert (Condition.CLOCK in found) == (offset is not None and abs(offset) > 5000)
    assert (Condition.TAMPER in found) == any(a.kind == "tamper" and a.count for a in report.alarms)
    assert (Condition.SOFTWARE in found) == (report.software_hash != APPROVED)
    assert (Condition.BACKLOG in found) == backlog_growing(record.backlog)


@given(hs.lists(records(), max_size=1), moments)
def test_the_colour_is_the_worst_severity_and_green_means_nothing_found(kept: list[TerminalRecord],
                                                                         now: datetime) -> None:
    found = findings(kept, RULES, SINCE, now)
    colour = colour_of(found)
    assert (colour is Colour.GREEN) == (not found)
    assert (colour is Colour.RED) == any(SEVERITY[f.condition] is Colour.RED for f in found)


@given(hs.lists(hs.integers(0, 100), max_size=8))
def test_a_backlog_grows_when_it_never_fell_over_four_reports_and_ended_higher(samples: list[int]) -> None:
    window = samples[-4:]
    growing = len(samples) >= 4 and window == sorted(window) \
        and window[-1] > window[0]
    assert backlog_growing(tuple(samples)) == growing


@given(hs.lists(hs.tuples(hs.sampled_from(["B-1", "B-2", "B-3"]), hs.booleans()), min_size=1, max_size=6),
       hs.integers(-120, 120))
def test_a_branch_is_not_opened_only_past_the_hour_and_grace_and_only_if_no_terminal_opened(
        terminals: list[tuple[str, bool]], minutes: int) -> None:
    opened_at = datetime.combine(DAY, time(7, 1), IRAN)
    kept = [TerminalRecord(f"T-{i}", branch, "D-1", opened_at=opened_at if opened else None)
            for i, (branch, opened) in enumerate(terminals)]
    now = datetime.combine(DAY, time(7, 5), IRAN) + timedelta(minutes=minutes)
    late = {f.subject.branch for f in branch_findings(kept, RULES, now)}
    opened = {branch for branch, done in terminals if done}
    expected = set() if minutes < 0 else {branch for branch, _ in terminals} - opened
    assert late == expected
    shown = {o.branch: o.opening for o in openings(kept, RULES, now)}
    assert {b for b, o in shown.items() if o is Opening.NOT_OPENED} == expected
    assert {b for b, o in shown.items() if o is Opening.ON_TIME} == opened


def _apply(live: list[Alert], found: list[Finding], at: datetime, next_id: int) -> list[Alert]:
    todo = reconcile(live, found)
    closed = {a.id for a in todo.to_close}
    kept = [dataclasses.replace(a, closed_at=at) if a.id in closed else a for a in live]
    return kept + [Alert(next_id + i, f.subject, f.condition, f.detail, at) for i, f in enumerate(todo.to_open)]


@given(hs.lists(hs.lists(records(), max_size=1).flatmap(lambda r: hs.tuples(hs.just(r), moments)), max_size=6),
       hs.data())
def test_alerts_open_for_new_conditions_stay_while_found_even_acknowledged_and_close_when_cleared(
        rounds: list[tuple[list[TerminalRecord], datetime]], data: hs.DataObject) -> None:
    alerts: list[Alert] = []
    for kept, now in rounds:
        found = findings(kept, RULES, SINCE, now)
        before = {a.key: a for a in alerts if a.state is not AlertState.CLOSED}
        alerts = _apply(alerts, found, now, len(alerts) + 1)
        live = {a.key: a for a in alerts if a.state is not AlertState.CLOSED}
        assert set(live) == {f.key for f in found if f.condition in ALERTING}
        for key, alert in live.items():
            if key in before:
                assert alert == before[key], "an alert still found must stay as it was"
        assert reconcile(alerts, found).empty, "reconciling twice must change nothing"
        acknowledge = bool(live) and data.draw(hs.booleans())
        if acknowledge:
            chosen = data.draw(hs.sampled_from(sorted(live)))
            alerts = [dataclasses.replace(a, acknowledged_at=now, acknowledged_by="staff-1")
                      if a.key == chosen and a.state is not AlertState.CLOSED else a for a in alerts]


@given(hs.lists(hs.tuples(hs.sampled_from(["T-1", "T-2"]), hs.integers(0, 12), hs.integers(0, 400),
                          hs.integers(0, 40)), max_size=12, unique_by=lambda e: (e[0], e[1])))
def test_slips_per_hour_sum_to_each_terminal_s_last_counter_when_counters_only_grow(
        entries: list[tuple[str, int, int, int]]) -> None:
    start = datetime(2026, 11, 29, 3, 30, tzinfo=UTC)
    ordered = sorted(entries, key=lambda e: (e[0], e[1]))
    grown: dict[str, int] = {}
    hours = []
    for terminal, hour, issued, duplicates in ordered:
        grown[terminal] = grown.get(terminal, 0) + issued
        hours.append(HourCounts(terminal, start + timedelta(hours=hour), grown[terminal], duplicates))
    figures = per_hour(hours)
    assert sum(f.issued for f in figures) == sum(grown.values())
    assert all(f.issued >= 0 and f.duplicates_refused >= 0 for f in figures)
