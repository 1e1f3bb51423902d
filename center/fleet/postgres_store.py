"""The fleet store on PostgreSQL (psycopg 3 and its pool), beside the national registry: tables `fleet_*`."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg_pool import ConnectionPool

from center.fleet.alerts import Alert, AuditDetail, AuditKind
from center.fleet.figures import hour_of
from center.fleet.model import HourCounts, TerminalRecord
from center.fleet.rules import Finding
from center.fleet.store import (
    ALERT_COLUMNS,
    GENESIS,
    AuditEntry,
    FleetStoreError,
    PayloadCache,
    Save,
    StoredFleet,
    alert_detail,
    alert_of,
    canonical,
    chain_digest,
    report_from,
    status_from,
)
from center.storage import PostgresSettings
from center.storage.postgres import registry_conninfo
from protocol.telemetry import HealthReport

_POOL_WAIT_SECONDS = 30.0
_SCHEMA_LOCK = 0x766B464C  # "vkFL": one center at a time makes the fleet's tables
_SCHEMA: tuple[LiteralString, ...] = (
    """CREATE TABLE IF NOT EXISTS fleet_terminals (
        district text NOT NULL, terminal text NOT NULL, branch text NOT NULL,
        status text, status_heard_at timestamptz, health text, heard_at timestamptz, opened_at timestamptz,
        backlog text NOT NULL, PRIMARY KEY (district, terminal)
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_reports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, district text NOT NULL, terminal text NOT NULL,
        received_at timestamptz NOT NULL, birth bigint NOT NULL, seq bigint NOT NULL, report text NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fleet_reports_of_terminal ON fleet_reports (district, terminal, id)",
    """CREATE TABLE IF NOT EXISTS fleet_hours (
        district text NOT NULL, terminal text NOT NULL, hour timestamptz NOT NULL,
        issued bigint NOT NULL, duplicates_refused bigint NOT NULL, PRIMARY KEY (district, terminal, hour)
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_alerts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, district text NOT NULL, branch text NOT NULL,
        terminal text NOT NULL, condition text NOT NULL, detail text NOT NULL, opened_at timestamptz NOT NULL,
        acknowledged_at timestamptz, acknowledged_by text, closed_at timestamptz
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS fleet_one_live_alert
        ON fleet_alerts (district, branch, terminal, condition) WHERE closed_at IS NULL""",
    """CREATE TABLE IF NOT EXISTS fleet_audit (
        district text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL, kind text NOT NULL,
        detail text NOT NULL, digest text NOT NULL, PRIMARY KEY (district, seq)
    )""",
    """CREATE OR REPLACE FUNCTION fleet_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the fleet audit log is append-only'; END $$""",
    "DROP TRIGGER IF EXISTS fleet_audit_no_change ON fleet_audit",
    """CREATE TRIGGER fleet_audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON fleet_audit
        FOR EACH STATEMENT EXECUTE FUNCTION fleet_audit_append_only()""",
)
_SAVE_RECORD: LiteralString = """
INSERT INTO fleet_terminals VALUES (%(district)s, %(terminal)s, %(branch)s, %(status)s, %(status_heard_at)s,
    %(health)s, %(heard_at)s, %(opened_at)s, %(backlog)s) ON CONFLICT (district, terminal)
DO UPDATE SET branch = excluded.branch, status = excluded.status, status_heard_at = excluded.status_heard_at,
    health = excluded.health, heard_at = excluded.heard_at, opened_at = excluded.opened_at, backlog = excluded.backlog
"""
_SAVE_WITH_REPORT: LiteralString = """
WITH saved AS (""" + _SAVE_RECORD + """), added AS (
    INSERT INTO fleet_reports (district, terminal, received_at, birth, seq, report)
    VALUES (%(district)s, %(terminal)s, %(at)s, %(birth)s, %(seq)s, %(report)s)
), hour AS (
    INSERT INTO fleet_hours VALUES (%(district)s, %(terminal)s, %(hour)s, %(issued)s, %(duplicates)s)
    ON CONFLICT (district, terminal, hour)
    DO UPDATE SET issued = excluded.issued, duplicates_refused = excluded.duplicates_refused
)
DELETE FROM fleet_reports WHERE district = %(district)s AND terminal = %(terminal)s AND id <= COALESCE((
    SELECT id FROM fleet_reports WHERE district = %(district)s AND terminal = %(terminal)s
    ORDER BY id DESC LIMIT 1 OFFSET %(older_kept)s), 0)
"""
# One statement, one round trip, one transaction: every part of a data-modifying WITH runs once, on the same
# snapshot, so the DELETE does not see the row its own statement inserts: it keeps the newest `keep - 1` before it.


class PostgresFleetStore:
    """A small pool of its own (the evaluator, the dashboard), and one connection for the intake's saves;
    connections in autocommit, each write one transaction (the intake's, a batch of saves). The intake's connection commits asynchronously
    (`synchronous_commit = off`): a crash of the database may lose its last fraction of a second of reports, which
    each terminal's next report restores, and the intake never waits on the disk the registry's reservations
    need. Alerts and the audit chain commit durably. The audit chain of a district is appended under an advisory
    lock of that district."""

    def __init__(self, settings: PostgresSettings, district: str, keep: int) -> None:
        self._district = district
        self._keep = max(1, keep)
        self._payloads = PayloadCache()
        self._pool = ConnectionPool(registry_conninfo(settings), min_size=1, max_size=max(2, min(settings.pool_size, 4)),
                                    open=False, kwargs={"autocommit": True}, name="fleet")
        self._intake = ConnectionPool(registry_conninfo(settings), min_size=1, max_size=1, open=False,
                                      kwargs={"autocommit": True}, configure=_commit_asynchronously,
                                      name="fleet-intake")
        try:
            self._pool.open(wait=True, timeout=_POOL_WAIT_SECONDS)
            with self._transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    conn.execute(statement)
            self._intake.open(wait=True, timeout=_POOL_WAIT_SECONDS)
        except FleetStoreError:
            self.close()
            raise
        except (psycopg.Error, TimeoutError) as exc:
            self.close()
            raise FleetStoreError(f"{type(exc).__name__}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.Error, TimeoutError) as exc:
            raise FleetStoreError(f"{type(exc).__name__}: {exc}") from exc

    def load(self) -> StoredFleet:
        with self._transaction() as conn:
            rows = conn.execute("SELECT terminal, branch, status, status_heard_at, health, heard_at, opened_at, "
                                "backlog FROM fleet_terminals WHERE district = %s", (self._district,)).fetchall()
            hours = conn.execute("SELECT terminal, hour, issued, duplicates_refused FROM fleet_hours "
                                 "WHERE district = %s", (self._district,)).fetchall()
            alerts = conn.execute(f"SELECT {ALERT_COLUMNS} FROM fleet_alerts WHERE district = %s "
                                  "AND closed_at IS NULL ORDER BY id", (self._district,)).fetchall()
        records = {
            terminal: TerminalRecord(terminal, branch, self._district, status_from(status), status_heard,
                                     report_from(health), heard, opened, tuple(json.loads(backlog)))
            for terminal, branch, status, status_heard, health, heard, opened, backlog in rows
        }
        return StoredFleet(records, [HourCounts(t, h, int(i), int(d)) for t, h, i, d in hours],
                           [alert_of(row) for row in alerts])

    def save(self, saves: Sequence[Save]) -> None:
        """One transaction on the intake's connection (see the class), its statements pipelined: each run of
        saves of one kind (a status alone, or with a report) is one `executemany`."""
        if not saves:
            return
        try:
            with self._intake.connection() as conn, conn.transaction():
                cursor = conn.cursor()
                for with_report, run in itertools.groupby(saves, key=lambda save: save.report is not None):
                    cursor.executemany(_SAVE_WITH_REPORT if with_report else _SAVE_RECORD,
                                       [self._values(save) for save in run])
        except (psycopg.Error, TimeoutError) as exc:
            raise FleetStoreError(f"{type(exc).__name__}: {exc}") from exc

    def _values(self, save: Save) -> dict[str, object]:
        record, report, at = save.record, save.report, save.at
        values: dict[str, object] = {
            "district": self._district, "terminal": record.terminal, "branch": record.branch,
            "status": self._payloads.of(record.status), "status_heard_at": record.status_heard_at,
            "health": self._payloads.of(record.health), "heard_at": record.heard_at, "opened_at": record.opened_at,
            "backlog": json.dumps(list(record.backlog))}
        if report is not None:
            values.update({"at": at, "birth": report.birth, "seq": report.seq, "report": self._payloads.of(report),
                           "hour": hour_of(at), "issued": report.counters.issued,
                           "duplicates": report.counters.duplicates_refused, "older_kept": self._keep - 1})
        return values

    def history(self, terminal: str, limit: int) -> list[tuple[datetime, HealthReport]]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT received_at, report FROM fleet_reports WHERE district = %s AND "
                                "terminal = %s ORDER BY id DESC LIMIT %s", (self._district, terminal, limit)).fetchall()
        found = []
        for received, text in rows:
            report = report_from(text)
            if report is not None:
                found.append((received, report))
        return found

    def alerts(self, closed_since: datetime) -> list[Alert]:
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {ALERT_COLUMNS} FROM fleet_alerts WHERE district = %s AND "
                                "(closed_at IS NULL OR closed_at >= %s) ORDER BY id DESC",
                                (self._district, closed_since)).fetchall()
        return [alert_of(row) for row in rows]

    def change_alerts(self, to_open: Sequence[Finding], to_close: Sequence[Alert], at: datetime
                      ) -> tuple[list[Alert], list[Alert]]:
        opened, closed = [], []
        with self._transaction() as conn:
            for finding in to_open:
                subject = finding.subject
                row = conn.execute("INSERT INTO fleet_alerts (district, branch, terminal, condition, detail, "
                                   "opened_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                                   (self._district, subject.branch, subject.terminal, finding.condition.value,
                                    finding.detail, at)).fetchone()
                assert row is not None, "INSERT ... RETURNING gave no row"
                alert = Alert(int(row[0]), subject, finding.condition, finding.detail, at)
                self._append(conn, AuditKind.ALERT_OPENED, alert_detail(alert), at)
                opened.append(alert)
            for alert in to_close:
                conn.execute("UPDATE fleet_alerts SET closed_at = %s WHERE id = %s AND district = %s "
                             "AND closed_at IS NULL", (at, alert.id, self._district))
                self._append(conn, AuditKind.ALERT_CLOSED, alert_detail(alert), at)
                closed.append(dataclasses.replace(alert, closed_at=at))
        return opened, closed

    def acknowledge(self, alert_id: int, staff: str, at: datetime) -> Alert | None:
        with self._transaction() as conn:
            row = conn.execute(f"UPDATE fleet_alerts SET acknowledged_at = %s, acknowledged_by = %s "
                               "WHERE id = %s AND district = %s AND closed_at IS NULL AND acknowledged_at IS NULL "
                               f"RETURNING {ALERT_COLUMNS}", (at, staff, alert_id, self._district)).fetchone()
            if row is None:
                return None
            alert = alert_of(row)
            self._append(conn, AuditKind.ALERT_ACKNOWLEDGED, {**alert_detail(alert), "staff": staff}, at)
        return alert

    def audit(self, kind: AuditKind, detail: AuditDetail, at: datetime) -> None:
        with self._transaction() as conn:
            self._append(conn, kind, detail, at)

    def audit_entries(self) -> list[AuditEntry]:
        with self._transaction() as conn:
            rows = conn.execute("SELECT seq, at, kind, detail, digest FROM fleet_audit WHERE district = %s "
                                "ORDER BY seq", (self._district,)).fetchall()
        return [AuditEntry(int(seq), at, AuditKind(kind), detail, digest) for seq, at, kind, detail, digest in rows]

    def close(self) -> None:
        self._intake.close()
        self._pool.close()

    def _append(self, conn: psycopg.Connection[Any], kind: AuditKind, detail: AuditDetail, at: datetime) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"fleet-audit/{self._district}",))
        last = conn.execute("SELECT seq, digest FROM fleet_audit WHERE district = %s ORDER BY seq DESC LIMIT 1",
                            (self._district,)).fetchone()
        seq, previous = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
        text = canonical(detail)
        conn.execute("INSERT INTO fleet_audit VALUES (%s, %s, %s, %s, %s, %s)",
                     (self._district, seq, at, kind.value, text, chain_digest(previous, seq, at, kind, text)))


def _commit_asynchronously(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET synchronous_commit = off")
