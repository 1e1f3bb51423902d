"""The journal's offline operation: the permits and what befell them, each OFFLINE slip's signed issue record (kept
before its print) and the center's record of it."""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from protocol.codec import format_time
from protocol.messages import OfflineOutcome
from protocol.permit import ActivationPath, PermitLedger

SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_slips (
    tx_id TEXT PRIMARY KEY,
    permit_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    offline_code TEXT NOT NULL,
    record BLOB NOT NULL,
    recorded_at TEXT NOT NULL,
    outcome TEXT,
    reconciled_at TEXT,
    UNIQUE (permit_id, sequence)
);
CREATE TRIGGER IF NOT EXISTS offline_slip_kept
BEFORE UPDATE OF tx_id, permit_id, sequence, offline_code, record, recorded_at ON offline_slips
BEGIN SELECT RAISE(ABORT, 'an offline issue record is never replaced'); END;
CREATE TRIGGER IF NOT EXISTS offline_slip_not_deleted BEFORE DELETE ON offline_slips
BEGIN SELECT RAISE(ABORT, 'an offline issue record is never deleted'); END;
CREATE TABLE IF NOT EXISTS peer_lines (
    tx_id TEXT PRIMARY KEY REFERENCES offline_slips (tx_id),
    line BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS permits (
    permit_id TEXT PRIMARY KEY,
    signed BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permit_events (
    id INTEGER PRIMARY KEY,
    permit_id TEXT NOT NULL REFERENCES permits (permit_id),
    kind TEXT NOT NULL CHECK (kind IN ('activation', 'code_failed', 'end', 'stood_down')),
    activation INTEGER,
    path TEXT,
    ended_at TEXT,
    at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS permit_kept BEFORE UPDATE ON permits
BEGIN SELECT RAISE(ABORT, 'a permit is never replaced'); END;
CREATE TRIGGER IF NOT EXISTS permit_event_kept BEFORE UPDATE ON permit_events
BEGIN SELECT RAISE(ABORT, 'a permit event is never changed'); END;
CREATE TRIGGER IF NOT EXISTS permit_event_not_deleted BEFORE DELETE ON permit_events
BEGIN SELECT RAISE(ABORT, 'a permit event is never deleted'); END;
"""
"""A record, once journaled, is the evidence of its slip: it never changes and is never deleted; a sequence number
is used once under its permit. `peer_lines` keeps, beside each record, the line that tells the permit's other
terminals of the slip once it is out (protocol.peer_slip): made while the national code is in hand, sent after the
print, again after a restart."""


class PermitEventKind(enum.StrEnum):
    ACTIVATION = "activation"
    CODE_FAILED = "code_failed"
    END = "end"
    STOOD_DOWN = "stood_down"


@dataclass(frozen=True)
class OfflineSlip:
    """An OFFLINE slip as journaled: its transaction, permit, sequence and code, the signed record, and how the
    center recorded it (None: not reconciled yet)."""

    tx_id: str
    permit_id: str
    sequence: int
    offline_code: str
    record: bytes
    outcome: OfflineOutcome | None


def record_peer_line(conn: sqlite3.Connection, tx_id: str, line: bytes) -> None:
    conn.execute("INSERT INTO peer_lines (tx_id, line) VALUES (?, ?)", (tx_id, line))


def peer_line(conn: sqlite3.Connection, tx_id: str) -> bytes | None:
    row = conn.execute("SELECT line FROM peer_lines WHERE tx_id = ?", (tx_id,)).fetchone()
    return None if row is None else bytes(row[0])


def record(conn: sqlite3.Connection, slip: OfflineSlip, at: datetime) -> None:
    """Inside the caller's transaction; a second record of the transaction or of the sequence is refused by the
    table itself."""
    conn.execute("INSERT INTO offline_slips (tx_id, permit_id, sequence, offline_code, record, recorded_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 (slip.tx_id, slip.permit_id, slip.sequence, slip.offline_code, slip.record, format_time(at)))


def reconciled(conn: sqlite3.Connection, tx_id: str, outcome: OfflineOutcome, at: datetime) -> bool:
    """Keep the center's record of the slip (the first one: a replay answered again changes nothing); False if
    the journal holds no offline slip of this transaction."""
    cursor = conn.execute("UPDATE offline_slips SET outcome = COALESCE(outcome, ?),"
                          " reconciled_at = COALESCE(reconciled_at, ?) WHERE tx_id = ?",
                          (outcome.value, format_time(at), tx_id))
    return cursor.rowcount == 1


def record_permit(conn: sqlite3.Connection, permit_id: str, signed: bytes, at: datetime) -> None:
    conn.execute("INSERT INTO permits (permit_id, signed, received_at) VALUES (?, ?, ?)",
                 (permit_id, signed, format_time(at)))


def permit_event(conn: sqlite3.Connection, permit_id: str, kind: PermitEventKind, at: datetime, *,
                 activation: int | None = None, path: ActivationPath | None = None,
                 ended_at: datetime | None = None) -> None:
    conn.execute("INSERT INTO permit_events (permit_id, kind, activation, path, ended_at, at) VALUES (?, ?, ?, ?, ?, ?)",
                 (permit_id, kind.value, activation, None if path is None else path.value,
                  None if ended_at is None else format_time(ended_at), format_time(at)))


def permits(conn: sqlite3.Connection) -> list[tuple[bytes, PermitLedger]]:
    """Each permit held (its signed bytes, in the order they came) with its ledger rebuilt from its events and
    its slips: the activations spent, the wrong codes, the slips issued (every sequence used), the first end, and
    the activation in use (the last one, unless the terminal stood down after it)."""
    held = []
    for permit_id, signed in conn.execute("SELECT permit_id, signed FROM permits ORDER BY rowid").fetchall():
        used: set[int] = set()
        failed, active, ended_at = 0, None, None
        for kind, activation, ended in conn.execute(
                "SELECT kind, activation, ended_at FROM permit_events WHERE permit_id = ? ORDER BY id", (permit_id,)):
            match PermitEventKind(kind):
                case PermitEventKind.ACTIVATION:
                    used.add(int(activation))
                    active = int(activation)
                case PermitEventKind.CODE_FAILED:
                    failed += 1
                case PermitEventKind.END:
                    at = datetime.fromisoformat(ended)
                    ended_at = at if ended_at is None else min(ended_at, at)
                case PermitEventKind.STOOD_DOWN:
                    active = None
        (issued,) = conn.execute("SELECT count(*) FROM offline_slips WHERE permit_id = ?", (permit_id,)).fetchone()
        held.append((bytes(signed), PermitLedger(frozenset(used), failed, int(issued), ended_at, active)))
    return held


def voter_has_slip(conn: sqlite3.Connection, voter_hash: str) -> bool:
    """Whether this terminal holds a transaction of the voter today that is not voided or refused: a slip, or
    one under way (the check before an OFFLINE slip)."""
    row = conn.execute("SELECT 1 FROM transactions WHERE voter_hash = ? AND stage NOT IN ('voided', 'refused') LIMIT 1",
                       (voter_hash,)).fetchone()
    return row is not None


def slips(conn: sqlite3.Connection) -> list[OfflineSlip]:
    """Every offline slip journaled, in the order they were recorded."""
    rows = conn.execute("SELECT tx_id, permit_id, sequence, offline_code, record, outcome FROM offline_slips"
                        " ORDER BY rowid")
    return [OfflineSlip(tx_id, permit_id, sequence, code, bytes(signed), None if outcome is None
                        else OfflineOutcome(outcome))
            for tx_id, permit_id, sequence, code, signed, outcome in rows]
