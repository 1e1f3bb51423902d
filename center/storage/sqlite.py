"""The embedded registry engine: one SQLite file (WAL, synchronous=FULL), for one district, the demo and tests."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from center.storage import (
    REQUIRED_COLUMNS,
    AnsweredRequest,
    Holder,
    MinutesRow,
    NewReservation,
    OfflineSlipRow,
    RegistryUnavailableError,
    Requester,
    Reservation,
    ReservationState,
    ReserveFound,
    RollGate,
    VoterRow,
    refuse_outdated,
)
from protocol.codec import format_time

_SCHEMA = """
CREATE TABLE IF NOT EXISTS voters (
    voter TEXT PRIMARY KEY,
    birth_date TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (
    tx_id TEXT PRIMARY KEY,
    voter TEXT,
    training INTEGER NOT NULL,
    inquiry_code TEXT UNIQUE,
    document TEXT,
    terminal TEXT NOT NULL,
    branch TEXT NOT NULL,
    district TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('RESERVED', 'COMMITTED', 'VOIDED')),
    reserved_at TEXT,
    committed_at TEXT,
    voided_at TEXT,
    void_reason TEXT,
    reprints INTEGER NOT NULL DEFAULT 0,
    snapshot_tag INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS one_live_reservation_per_voter
    ON reservations (voter, training) WHERE state != 'VOIDED';
CREATE TABLE IF NOT EXISTS poll_events (
    tx_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    terminal TEXT NOT NULL,
    branch TEXT NOT NULL,
    district TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answered_requests (
    request_id TEXT PRIMARY KEY,
    district TEXT NOT NULL,
    terminal TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    answer BLOB NOT NULL,
    at TEXT NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answered_per_terminal (
    district TEXT NOT NULL,
    terminal TEXT NOT NULL,
    answered INTEGER NOT NULL,
    PRIMARY KEY (district, terminal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minutes (
    district TEXT NOT NULL,
    branch TEXT NOT NULL,
    terminal TEXT NOT NULL,
    minutes_hash TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    minutes TEXT NOT NULL,
    request BLOB NOT NULL,
    received_at TEXT NOT NULL,
    training INTEGER NOT NULL,
    before_closing INTEGER NOT NULL,
    PRIMARY KEY (district, branch, terminal, minutes_hash)
);
CREATE TABLE IF NOT EXISTS offline_slips (
    permit_id TEXT NOT NULL,
    offline_code TEXT NOT NULL,
    digest TEXT NOT NULL,
    outcome TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    terminal TEXT NOT NULL,
    branch TEXT NOT NULL,
    district TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    voter TEXT NOT NULL,
    faults TEXT NOT NULL,
    other TEXT,
    ineligible TEXT,
    record BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (permit_id, offline_code, digest)
);
CREATE INDEX IF NOT EXISTS offline_slips_of_tx ON offline_slips (tx_id);
CREATE INDEX IF NOT EXISTS offline_slips_of_district ON offline_slips (district);
"""
# Made once the columns are known to be there (an older file lacks them, and is refused by name).
_INDEXES = """
CREATE INDEX IF NOT EXISTS answers_of_district_terminal ON answered_requests (district, terminal, seq);
CREATE INDEX IF NOT EXISTS poll_events_of_district_terminal ON poll_events (district, terminal, at);
CREATE INDEX IF NOT EXISTS committed_of_branch ON reservations (district, branch)
    WHERE state = 'COMMITTED' AND training = 0;
CREATE INDEX IF NOT EXISTS committed_in_order ON reservations (committed_at)
    WHERE state = 'COMMITTED' AND training = 0
"""
# First request wins: a live reservation of the voter, or an earlier row of this transaction, is
# returned unchanged instead of inserting; the caller tells which from the returned row. (The roll entry is read
# just before, in the same transaction: in-process, a statement costs no round trip.)
_RESERVE = """
INSERT INTO reservations
    (tx_id, voter, training, inquiry_code, document, terminal, branch, district, state, reserved_at, snapshot_tag)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'RESERVED', ?, ?)
ON CONFLICT (voter, training) WHERE state != 'VOIDED' DO UPDATE SET state = state
ON CONFLICT (tx_id) DO UPDATE SET state = state
RETURNING tx_id, voter, inquiry_code, terminal, branch, district, state, COALESCE(committed_at, reserved_at)
"""
_COMMIT = """
UPDATE reservations
SET state = 'COMMITTED', committed_at = COALESCE(committed_at, ?), reprints = MAX(reprints, ?)
WHERE tx_id = ? AND district = ? AND terminal = ? AND inquiry_code = ? AND state IN ('RESERVED', 'COMMITTED')
RETURNING state
"""
# A void of a transaction the center never saw leaves a tombstone, so a late reserve cannot revive it.
_VOID = """
INSERT INTO reservations (tx_id, training, terminal, branch, district, state, voided_at, void_reason)
VALUES (?, 0, ?, ?, ?, 'VOIDED', ?, ?)
ON CONFLICT (tx_id) DO UPDATE SET
    state = CASE WHEN state = 'COMMITTED' THEN state ELSE 'VOIDED' END,
    voided_at = CASE WHEN state = 'RESERVED' THEN excluded.voided_at ELSE voided_at END,
    void_reason = CASE WHEN state = 'RESERVED' THEN excluded.void_reason ELSE void_reason END
WHERE district = excluded.district AND terminal = excluded.terminal
RETURNING state
"""
_OFFLINE_COLUMNS = ("permit_id, offline_code, digest, outcome, tx_id, terminal, branch, district, issued_at, voter,"
                    " faults, other, ineligible, record, received_at")
_COUNT_ANSWER = """
INSERT INTO answered_per_terminal VALUES (?, ?, 1)
ON CONFLICT (district, terminal) DO UPDATE SET answered = answered + 1
RETURNING answered
"""


class SqliteDatabase:
    """An SQLite registry file; each session is a connection of its own (":memory:": each an empty database)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def session(self) -> SqliteStorage:
        return SqliteStorage(self.path)

    def close(self) -> None:
        """Nothing is held between sessions."""


class SqliteStorage:
    """One connection; writers take the file's write lock (BEGIN IMMEDIATE), so writes are serialised."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        try:
            with self.transaction():
                self._script(_SCHEMA)
                found = [(table, column) for table in REQUIRED_COLUMNS
                         for (column,) in self._db.execute("SELECT name FROM pragma_table_info(?)", (table,))]
                refuse_outdated(f"the registry file {path}", found)
                self._script(_INDEXES)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Under the file's write lock; a locked or failing file (sqlite3.OperationalError) is RegistryUnavailableError."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise RegistryUnavailableError(str(exc)) from exc

    def add_voters(self, rows: Iterable[VoterRow]) -> int | None:
        values = ((r.voter, r.birth_date.isoformat(), r.name, r.status) for r in rows)
        try:
            with self.transaction():
                cursor = self._db.executemany("INSERT INTO voters VALUES (?, ?, ?, ?)", values)
        except sqlite3.IntegrityError:
            return None
        return cursor.rowcount

    def voter(self, voter: str) -> VoterRow | None:
        row = self._one("SELECT birth_date, name, status FROM voters WHERE voter = ?", (voter,))
        return None if row is None else VoterRow(voter, date.fromisoformat(row[0]), row[1], row[2])

    def reserve(self, row: NewReservation, gate: RollGate) -> ReserveFound:
        roll = self.voter(row.voter)
        if not gate.admits(roll):
            return ReserveFound(roll, None)
        who = row.requester
        values = (row.tx_id, row.voter, int(row.training), row.inquiry_code, row.document, who.terminal,
                  who.branch, who.district, format_time(row.at), row.snapshot_tag)
        try:
            held = self._one(_RESERVE, values)
        except sqlite3.IntegrityError as exc:
            if "inquiry_code" not in str(exc):
                raise
            return ReserveFound(roll, None)
        if held is None:
            raise RuntimeError("the reserve statement returned no row")
        tx_id, voter, inquiry_code, terminal, branch, district, state, first_at = held
        at = None if first_at is None else datetime.fromisoformat(first_at)
        return ReserveFound(roll, Holder(tx_id, voter, inquiry_code, terminal, branch, district,
                                         ReservationState(state), at))

    def commit(self, tx_id: str, requester: Requester, inquiry_code: str, reprints: int, at: datetime) -> bool:
        who = requester
        values = (format_time(at), reprints, tx_id, who.district, who.terminal, inquiry_code)
        return self._one(_COMMIT, values) is not None

    def void(self, tx_id: str, requester: Requester, reason: str, at: datetime) -> ReservationState | None:
        who = requester
        row = self._one(_VOID, (tx_id, who.terminal, who.branch, who.district, format_time(at), reason))
        return None if row is None else ReservationState(row[0])

    def add_poll_event(self, tx_id: str, requester: Requester, kind: str, detail: str, at: datetime) -> None:
        who = requester
        self._db.execute(
            "INSERT INTO poll_events VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tx_id) DO NOTHING",
            (tx_id, kind, who.terminal, who.branch, who.district, format_time(at), detail),
        )

    def poll_events(self, district: str, terminal: str) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT kind, detail FROM poll_events WHERE district = ? AND terminal = ? ORDER BY at, rowid",
            (district, terminal),
        )
        return [(kind, detail) for kind, detail in rows]

    def committed_tags(self, district: str | None, after: datetime | None, until: datetime) -> Iterator[int]:
        query = ("SELECT snapshot_tag FROM reservations WHERE state = 'COMMITTED' AND training = 0"
                 " AND committed_at > ? AND committed_at <= ? AND snapshot_tag IS NOT NULL")
        values: tuple[str, ...] = ("" if after is None else format_time(after), format_time(until))
        if district is not None:
            query += " AND district = ?"
            values = (*values, district)
        for (tag,) in self._db.execute(query, values):
            yield int(tag)

    def committed_count(self, district: str, branch: str) -> int:
        row = self._one("SELECT count(*) FROM reservations WHERE district = ? AND branch = ? AND state = 'COMMITTED'"
                        " AND training = 0", (district, branch))
        return int(row[0])

    def minutes_hashes(self, district: str, branch: str, training: bool) -> list[str]:
        """(The transaction's write lock on the file already makes sessions take turns.)"""
        rows = self._db.execute(
            "SELECT minutes_hash FROM minutes WHERE district = ? AND branch = ? AND training = ?"
            " GROUP BY minutes_hash ORDER BY min(rowid)", (district, branch, int(training)))
        return [digest for (digest,) in rows]

    def add_minutes(self, row: MinutesRow) -> bool:
        who = row.requester
        cursor = self._db.execute(
            "INSERT INTO minutes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (who.district, who.branch, who.terminal, row.minutes_hash, row.tx_id, row.minutes, row.request,
             format_time(row.received_at), int(row.training), int(row.before_closing)))
        return cursor.rowcount == 1

    def minutes_of(self, district: str, training: bool) -> list[MinutesRow]:
        rows = self._db.execute(
            "SELECT branch, terminal, minutes_hash, tx_id, minutes, request, received_at, before_closing"
            " FROM minutes WHERE district = ? AND training = ? ORDER BY rowid", (district, int(training)))
        return [MinutesRow(Requester(terminal, branch, district), tx_id, digest, minutes, bytes(request),
                           datetime.fromisoformat(received_at), training, bool(before))
                for branch, terminal, digest, tx_id, minutes, request, received_at, before in rows]

    def offline_slips(self, permit_id: str, offline_code: str) -> list[OfflineSlipRow]:
        """(The transaction's write lock on the file already makes sessions take turns.)"""
        return self._offline_rows("permit_id = ? AND offline_code = ?", (permit_id, offline_code))

    def add_offline_slip(self, row: OfflineSlipRow) -> bool:
        who = row.requester
        cursor = self._db.execute(
            f"INSERT INTO offline_slips ({_OFFLINE_COLUMNS}) VALUES ({', '.join('?' * 15)}) ON CONFLICT DO NOTHING",
            (row.permit_id, row.offline_code, row.digest, row.outcome, row.tx_id, who.terminal, who.branch,
             who.district, format_time(row.issued_at), row.voter, row.faults, row.other, row.ineligible, row.record,
             format_time(row.received_at)))
        return cursor.rowcount == 1

    def offline_slip_of(self, tx_id: str) -> OfflineSlipRow | None:
        rows = self._offline_rows("tx_id = ?", (tx_id,))
        return rows[0] if rows else None

    def offline_slips_of(self, district: str) -> list[OfflineSlipRow]:
        return self._offline_rows("district = ?", (district,))

    def _offline_rows(self, where: str, values: tuple[str, ...]) -> list[OfflineSlipRow]:
        rows = self._db.execute(f"SELECT {_OFFLINE_COLUMNS} FROM offline_slips WHERE {where} ORDER BY rowid", values)
        return [OfflineSlipRow(permit, code, digest, outcome, tx_id, Requester(terminal, branch, district),
                               datetime.fromisoformat(issued_at), voter, faults, other, ineligible, bytes(record),
                               datetime.fromisoformat(received_at))
                for (permit, code, digest, outcome, tx_id, terminal, branch, district, issued_at, voter, faults,
                     other, ineligible, record, received_at) in rows]

    def answered_request(self, request_id: str) -> AnsweredRequest | None:
        row = self._one(
            "SELECT district, terminal, request_digest, answer FROM answered_requests WHERE request_id = ?",
            (request_id,),
        )
        return None if row is None else AnsweredRequest(request_id, row[0], row[1], row[2], bytes(row[3]))

    def remember_answer(self, answered: AnsweredRequest, at: datetime, keep: int) -> None:
        counted = self._one(_COUNT_ANSWER, (answered.district, answered.terminal))
        assert counted is not None, "an upsert with RETURNING returns its row"
        seq = int(counted[0])
        self._db.execute(
            "INSERT INTO answered_requests VALUES (?, ?, ?, ?, ?, ?, ?)",
            (answered.request_id, answered.district, answered.terminal, answered.request_digest, answered.answer,
             format_time(at), seq),
        )
        self._db.execute(
            "DELETE FROM answered_requests WHERE district = ? AND terminal = ? AND seq <= ?",
            (answered.district, answered.terminal, seq - keep),
        )

    def answered_count(self, district: str, terminal: str) -> int:
        row = self._one("SELECT answered FROM answered_per_terminal WHERE district = ? AND terminal = ?",
                        (district, terminal))
        return 0 if row is None else int(row[0])

    def reservations(self) -> list[Reservation]:
        rows = self._db.execute(
            "SELECT tx_id, voter, training, inquiry_code, terminal, branch, district, state, reprints"
            " FROM reservations ORDER BY rowid"
        )
        return [
            Reservation(tx_id, voter, bool(training), inquiry, terminal, branch, district, ReservationState(state),
                        reprints)
            for tx_id, voter, training, inquiry, terminal, branch, district, state, reprints in rows
        ]

    def _script(self, statements: str) -> None:
        for statement in statements.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def _one(self, query: str, values: tuple[Any, ...]) -> Any:
        return self._db.execute(query, values).fetchone()
