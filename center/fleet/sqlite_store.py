"""The embedded fleet store: one SQLite file of its own beside the registry's (WAL), tables `fleet_*`."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

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
    stamp,
    status_from,
    stored_time,
)
from protocol.codec import format_time
from protocol.telemetry import HealthReport

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fleet_terminals (
    district TEXT NOT NULL, terminal TEXT NOT NULL, branch TEXT NOT NULL,
    status TEXT, status_heard_at TEXT, health TEXT, heard_at TEXT, opened_at TEXT, backlog TEXT NOT NULL,
    PRIMARY KEY (district, terminal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fleet_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, district TEXT NOT NULL, terminal TEXT NOT NULL,
    received_at TEXT NOT NULL, birth INTEGER NOT NULL, seq INTEGER NOT NULL, report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fleet_reports_of_terminal ON fleet_reports (district, terminal, id);
CREATE TABLE IF NOT EXISTS fleet_hours (
    district TEXT NOT NULL, terminal TEXT NOT NULL, hour TEXT NOT NULL,
    issued INTEGER NOT NULL, duplicates_refused INTEGER NOT NULL,
    PRIMARY KEY (district, terminal, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fleet_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, district TEXT NOT NULL, branch TEXT NOT NULL, terminal TEXT NOT NULL,
    condition TEXT NOT NULL, detail TEXT NOT NULL, opened_at TEXT NOT NULL,
    acknowledged_at TEXT, acknowledged_by TEXT, closed_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS fleet_one_live_alert
    ON fleet_alerts (district, branch, terminal, condition) WHERE closed_at IS NULL;
CREATE TABLE IF NOT EXISTS fleet_audit (
    district TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
    digest TEXT NOT NULL, PRIMARY KEY (district, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS fleet_audit_no_update BEFORE UPDATE ON fleet_audit
    BEGIN SELECT RAISE(ABORT, 'the fleet audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS fleet_audit_no_delete BEFORE DELETE ON fleet_audit
    BEGIN SELECT RAISE(ABORT, 'the fleet audit log is append-only'); END;
"""
class SqliteFleetStore:
    """Thread-safe: one connection behind a lock (the intake's thread writes, the evaluator and the dashboard
    read). synchronous=NORMAL: a power cut may lose the last reports, never corrupt the file; the next report
    of each terminal restores its state."""

    def __init__(self, path: Path, district: str, keep: int) -> None:
        self._district = district
        self._keep = keep
        self._payloads = PayloadCache()
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise FleetStoreError(f"the fleet store {path}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise FleetStoreError(str(exc)) from exc

    def load(self) -> StoredFleet:
        with self._transaction() as db:
            rows = db.execute("SELECT terminal, branch, status, status_heard_at, health, heard_at, opened_at, "
                              "backlog FROM fleet_terminals WHERE district = ?", (self._district,)).fetchall()
            hours = db.execute("SELECT terminal, hour, issued, duplicates_refused FROM fleet_hours "
                               "WHERE district = ?", (self._district,)).fetchall()
            alerts = db.execute(f"SELECT {ALERT_COLUMNS} FROM fleet_alerts WHERE district = ? "
                                "AND closed_at IS NULL ORDER BY id", (self._district,)).fetchall()
        records = {
            terminal: TerminalRecord(terminal, branch, self._district, status_from(status), stored_time(status_heard),
                                     report_from(health), stored_time(heard), stored_time(opened), tuple(json.loads(backlog)))
            for terminal, branch, status, status_heard, health, heard, opened, backlog in rows
        }
        return StoredFleet(records, [HourCounts(t, datetime.fromisoformat(h), i, d) for t, h, i, d in hours],
                           [alert_of(row) for row in alerts])

    def save(self, saves: Sequence[Save]) -> None:
        if not saves:
            return
        with self._transaction() as db:
            for save in saves:
                self._save(db, save)

    def _save(self, db: sqlite3.Connection, save: Save) -> None:
        district, record, report, at = self._district, save.record, save.report, save.at
        terminal = record.terminal
        status, health = self._payloads.of(record.status), self._payloads.of(record.health)
        db.execute(
            "INSERT INTO fleet_terminals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (district, terminal) "
            "DO UPDATE SET branch = excluded.branch, status = excluded.status, "
            "status_heard_at = excluded.status_heard_at, health = excluded.health, heard_at = excluded.heard_at, "
            "opened_at = excluded.opened_at, backlog = excluded.backlog",
            (district, terminal, record.branch, status, stamp(record.status_heard_at),
             health, stamp(record.heard_at), stamp(record.opened_at),
             json.dumps(list(record.backlog))))
        if report is None:
            return
        db.execute("INSERT INTO fleet_reports (district, terminal, received_at, birth, seq, report) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (district, terminal, format_time(at), report.birth, report.seq, self._payloads.of(report)))
        db.execute("DELETE FROM fleet_reports WHERE district = ? AND terminal = ? AND id <= COALESCE(("
                   "SELECT id FROM fleet_reports WHERE district = ? AND terminal = ? ORDER BY id DESC "
                   "LIMIT 1 OFFSET ?), 0)", (district, terminal, district, terminal, self._keep))
        db.execute("INSERT INTO fleet_hours VALUES (?, ?, ?, ?, ?) ON CONFLICT (district, terminal, hour) "
                   "DO UPDATE SET issued = excluded.issued, duplicates_refused = excluded.duplicates_refused",
                   (district, terminal, format_time(hour_of(at)), report.counters.issued,
                    report.counters.duplicates_refused))

    def history(self, terminal: str, limit: int) -> list[tuple[datetime, HealthReport]]:
        with self._transaction() as db:
            rows = db.execute("SELECT received_at, report FROM fleet_reports WHERE district = ? AND terminal = ? "
                              "ORDER BY id DESC LIMIT ?", (self._district, terminal, limit)).fetchall()
        found = []
        for received, text in rows:
            report = report_from(text)
            if report is not None:
                found.append((datetime.fromisoformat(received), report))
        return found

    def alerts(self, closed_since: datetime) -> list[Alert]:
        with self._transaction() as db:
            rows = db.execute(f"SELECT {ALERT_COLUMNS} FROM fleet_alerts WHERE district = ? AND "
                              "(closed_at IS NULL OR closed_at >= ?) ORDER BY id DESC",
                              (self._district, format_time(closed_since))).fetchall()
        return [alert_of(row) for row in rows]

    def change_alerts(self, to_open: Sequence[Finding], to_close: Sequence[Alert], at: datetime
                      ) -> tuple[list[Alert], list[Alert]]:
        opened, closed = [], []
        with self._transaction() as db:
            for finding in to_open:
                subject = finding.subject
                cursor = db.execute("INSERT INTO fleet_alerts (district, branch, terminal, condition, detail, "
                                    "opened_at) VALUES (?, ?, ?, ?, ?, ?)",
                                    (self._district, subject.branch, subject.terminal, finding.condition.value,
                                     finding.detail, format_time(at)))
                alert = Alert(int(cursor.lastrowid or 0), subject, finding.condition, finding.detail, at)
                self._append(db, AuditKind.ALERT_OPENED, alert_detail(alert), at)
                opened.append(alert)
            for alert in to_close:
                db.execute("UPDATE fleet_alerts SET closed_at = ? WHERE id = ? AND district = ? AND closed_at IS NULL",
                           (format_time(at), alert.id, self._district))
                self._append(db, AuditKind.ALERT_CLOSED, alert_detail(alert), at)
                closed.append(dataclasses.replace(alert, closed_at=at))
        return opened, closed

    def acknowledge(self, alert_id: int, staff: str, at: datetime) -> Alert | None:
        with self._transaction() as db:
            row = db.execute(f"UPDATE fleet_alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND "
                             "district = ? AND closed_at IS NULL AND acknowledged_at IS NULL "
                             f"RETURNING {ALERT_COLUMNS}", (format_time(at), staff, alert_id, self._district)
                             ).fetchone()
            if row is None:
                return None
            alert = alert_of(row)
            self._append(db, AuditKind.ALERT_ACKNOWLEDGED, {**alert_detail(alert), "staff": staff}, at)
        return alert

    def audit(self, kind: AuditKind, detail: AuditDetail, at: datetime) -> None:
        with self._transaction() as db:
            self._append(db, kind, detail, at)

    def audit_entries(self) -> list[AuditEntry]:
        with self._transaction() as db:
            rows = db.execute("SELECT seq, at, kind, detail, digest FROM fleet_audit WHERE district = ? "
                              "ORDER BY seq", (self._district,)).fetchall()
        return [AuditEntry(seq, datetime.fromisoformat(at), AuditKind(kind), detail, digest)
                for seq, at, kind, detail, digest in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _append(self, db: sqlite3.Connection, kind: AuditKind, detail: AuditDetail, at: datetime) -> None:
        last = db.execute("SELECT seq, digest FROM fleet_audit WHERE district = ? ORDER BY seq DESC LIMIT 1",
                          (self._district,)).fetchone()
        seq, previous = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        text = canonical(detail)
        db.execute("INSERT INTO fleet_audit VALUES (?, ?, ?, ?, ?, ?)",
                   (self._district, seq, format_time(at), kind.value, text, chain_digest(previous, seq, at, kind, text)))

