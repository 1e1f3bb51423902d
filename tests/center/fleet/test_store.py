"""The fleet store on both engines: records, bounded history, hours, alerts' lives and the audit chain."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from center.fleet.alerts import AlertState, AuditKind
from center.fleet.figures import hour_of
from center.fleet.intake import Accepted, take
from center.fleet.model import TerminalRecord
from center.fleet.rules import Condition, Finding, Subject
from center.fleet.store import FleetLocation, FleetStoreError, Save, broken_at, open_fleet_store
from center.storage import PostgresSettings
from protocol.telemetry import LinkState
from protocol.topics import telemetry_topic
from tests.center.fleet.samples import Terminal

DISTRICT = "D-store"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _applied(terminal: Terminal, held: TerminalRecord | None, now: datetime, **report: object) -> Accepted:
    message = terminal.health(**report)  # type: ignore[arg-type]
    decision = take(telemetry_topic(DISTRICT, terminal.terminal), terminal.signed(message), DISTRICT,
                    {terminal.terminal: terminal.enrolment()}, lambda _t: held, now)
    assert isinstance(decision, Accepted), decision
    return decision


def test_records_history_and_hours_survive_a_reopen_and_history_is_pruned(
        fleet_location: Callable[[], FleetLocation]) -> None:
    location = fleet_location()
    store = open_fleet_store(location, DISTRICT, keep=3)
    terminal = Terminal("T-1", "B-1", DISTRICT)
    held = None
    for minute in range(6):
        terminal.issued += 2
        decision = _applied(terminal, held, NOW + timedelta(minutes=minute * 20), printer="no_paper")
        store.save([Save(decision.record, decision.report, NOW + timedelta(minutes=minute * 20))])
        held = decision.record
    store.close()
    again = open_fleet_store(location, DISTRICT, keep=3)
    loaded = again.load()
    assert loaded.records == {"T-1": held}
    assert [report.seq for _, report in again.history("T-1", 10)] == [6, 5, 4]
    hours = sorted(loaded.hours, key=lambda h: h.hour)
    assert [h.hour for h in hours] == sorted({hour_of(NOW + timedelta(minutes=m * 20)) for m in range(6)})
    assert hours[-1].issued == 12
    other = open_fleet_store(location, "D-other", keep=3)
    assert other.load().records == {}, "a district sees only its own terminals"
    other.close()
    again.close()


def test_one_batch_of_saves_is_kept_in_order_and_all_or_nothing(fleet_location: Callable[[], FleetLocation]) -> None:
    location = fleet_location()
    store = open_fleet_store(location, DISTRICT, keep=2)
    one, two = Terminal("T-1", "B-1", DISTRICT), Terminal("T-2", "B-1", DISTRICT)
    held: dict[str, TerminalRecord | None] = {"T-1": None, "T-2": None}
    batch = []
    for terminal in (one, two, one, one, two):
        terminal.issued += 5
        decision = _applied(terminal, held[terminal.terminal], NOW)
        held[terminal.terminal] = decision.record
        batch.append(Save(decision.record, decision.report, NOW))
    last_one = held["T-1"]
    assert last_one is not None and last_one.status is not None
    offline = dataclasses.replace(last_one, status=dataclasses.replace(last_one.status, state=LinkState.OFFLINE))
    batch.append(Save(offline, None, NOW))
    store.save(batch)
    loaded = store.load()
    assert loaded.records == {"T-1": offline, "T-2": held["T-2"]}, "the status saved after the reports is the last"
    assert [report.seq for _, report in store.history("T-1", 10)] == [3, 2], "pruned within the batch"
    assert [report.seq for _, report in store.history("T-2", 10)] == [2, 1]
    assert {(h.terminal, h.issued) for h in loaded.hours} == {("T-1", 15), ("T-2", 10)}
    one.birth += 1
    good = _applied(one, offline, NOW)
    broken = Save(dataclasses.replace(good.record, terminal="T-3", branch=None), None, NOW)  # type: ignore[arg-type]
    with pytest.raises(FleetStoreError):
        store.save([Save(good.record, good.report, NOW), broken])
    assert store.load().records["T-1"] == offline, "a batch that fails keeps none of its saves"
    assert [report.seq for _, report in store.history("T-1", 10)] == [3, 2]
    store.close()


def test_an_alert_opens_is_acknowledged_once_closes_and_every_step_is_in_the_audit_chain(
        fleet_location: Callable[[], FleetLocation]) -> None:
    store = open_fleet_store(fleet_location(), DISTRICT)
    finding = Finding(Subject("B-1", "T-1"), Condition.PRINTER, "no_paper")
    [opened], [] = store.change_alerts([finding], [], NOW)
    assert opened.state is AlertState.OPEN and store.load().alerts == [opened]
    acknowledged = store.acknowledge(opened.id, "staff-1", NOW + timedelta(seconds=5))
    assert acknowledged is not None and acknowledged.state is AlertState.ACKNOWLEDGED
    assert store.acknowledge(opened.id, "staff-2", NOW + timedelta(seconds=6)) is None
    [], [closed] = store.change_alerts([], [acknowledged], NOW + timedelta(seconds=9))
    assert closed.state is AlertState.CLOSED and store.load().alerts == []
    assert store.acknowledge(opened.id, "staff-1", NOW + timedelta(seconds=10)) is None
    assert [a.id for a in store.alerts(NOW)] == [opened.id]
    [reopened], [] = store.change_alerts([finding], [], NOW + timedelta(seconds=11))
    assert reopened.id != opened.id, "a condition that comes back is a new alert"
    store.audit(AuditKind.STAFF_SIGNED_IN, {"staff": "staff-1"}, NOW)
    entries = store.audit_entries()
    assert [e.kind for e in entries] == [AuditKind.ALERT_OPENED, AuditKind.ALERT_ACKNOWLEDGED,
                                         AuditKind.ALERT_CLOSED, AuditKind.ALERT_OPENED, AuditKind.STAFF_SIGNED_IN]
    assert broken_at(entries) is None
    assert broken_at([entries[0], entries[2]]) == entries[2].seq, "a dropped entry breaks the chain"
    store.close()


def test_a_burst_of_alerts_opens_and_closes_in_one_transaction_with_its_audit_chain_whole(
        fleet_location: Callable[[], FleetLocation]) -> None:
    store = open_fleet_store(fleet_location(), DISTRICT)
    findings = [Finding(Subject(f"B-{n // 2}", f"T-{n}"), Condition.PRINTER, "no_paper") for n in range(40)]
    opened, closed = store.change_alerts(findings, [], NOW)
    assert closed == [] and [a.subject for a in opened] == [f.subject for f in findings]
    assert len({a.id for a in opened}) == 40 and sorted(store.load().alerts, key=lambda a: a.id) == opened
    with pytest.raises(FleetStoreError):
        store.change_alerts(findings[1:], opened[:5], NOW + timedelta(seconds=2))
    assert sorted(store.load().alerts, key=lambda a: a.id) == opened, "a failed change changes nothing"
    clock = Finding(Subject("B-0", "T-0"), Condition.CLOCK, "offset")
    again, shut = store.change_alerts([clock], opened[1:], NOW + timedelta(seconds=3))
    assert [a.state for a in shut] == [AlertState.CLOSED] * 39 and again[0].id not in {a.id for a in opened}
    assert {a.id for a in store.load().alerts} == {opened[0].id, again[0].id}
    entries = store.audit_entries()
    assert [e.kind for e in entries] == [AuditKind.ALERT_OPENED] * 41 + [AuditKind.ALERT_CLOSED] * 39
    assert [e.seq for e in entries] == list(range(1, 81)) and broken_at(entries) is None
    store.close()


def _raw_connection(location: FleetLocation) -> Any:
    """A connection of our own to the store's database, as an insider with database access would have."""
    if isinstance(location, PostgresSettings):
        return psycopg.connect(location.dsn, autocommit=True)
    return sqlite3.connect(location, isolation_level=None)


def test_the_audit_log_is_append_only_in_the_database(fleet_location: Callable[[], FleetLocation]) -> None:
    location = fleet_location()
    store = open_fleet_store(location, DISTRICT)
    store.audit(AuditKind.STAFF_SIGNED_IN, {"staff": "staff-1"}, NOW)
    connection = _raw_connection(location)
    try:
        for statement in ("UPDATE fleet_audit SET detail = '{}'", "DELETE FROM fleet_audit"):
            with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
                connection.execute(statement)
    finally:
        connection.close()
    assert broken_at(store.audit_entries()) is None and len(store.audit_entries()) == 1
    store.close()
