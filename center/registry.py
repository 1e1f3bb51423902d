"""The district's eligibility registry on SQLite: the voter roll and reservations, each change one atomic statement."""

from __future__ import annotations

import contextlib
import enum
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from center.eligibility import VoterRecord, VoterStatus, ineligible_reason
from center.roll import RollProblem, RollProblemKind, RollRefused
from protocol.codec import format_time
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import (
    CommitOutcome,
    DocumentKind,
    IneligibleReason,
    RequestKind,
    VoidOutcome,
    VoidReason,
)
from protocol.national_code import NationalCode, keyed_hash

Clock = Callable[[], datetime]
_CODE_ATTEMPTS = 8
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
    reprints INTEGER NOT NULL DEFAULT 0
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
    terminal TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    answer BLOB NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answered_per_terminal (
    terminal TEXT PRIMARY KEY,
    answered INTEGER NOT NULL
) WITHOUT ROWID;
"""
# First request wins: a live reservation of the voter, or an earlier row of this transaction, is
# returned unchanged instead of inserting; the caller tells which from the returned row.
_RESERVE = """
INSERT INTO reservations
    (tx_id, voter, training, inquiry_code, document, terminal, branch, district, state, reserved_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'RESERVED', ?)
ON CONFLICT (voter, training) WHERE state != 'VOIDED' DO UPDATE SET state = state
ON CONFLICT (tx_id) DO UPDATE SET state = state
RETURNING tx_id, voter, inquiry_code, terminal, branch, state, COALESCE(committed_at, reserved_at)
"""
_COMMIT = """
UPDATE reservations
SET state = 'COMMITTED', committed_at = COALESCE(committed_at, ?), reprints = MAX(reprints, ?)
WHERE tx_id = ? AND terminal = ? AND inquiry_code = ? AND state IN ('RESERVED', 'COMMITTED')
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
WHERE terminal = excluded.terminal
RETURNING state
"""


class ReservationState(enum.StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    VOIDED = "VOIDED"


class RefusalReason(enum.StrEnum):
    """Why the registry refused a request outright; nothing was changed."""

    TX_OF_OTHER_TERMINAL = "tx_of_other_terminal"
    TX_OF_OTHER_VOTER = "tx_of_other_voter"


@dataclass(frozen=True)
class Requester:
    """The terminal a request came from, as its topic and header name it."""

    terminal: str
    branch: str
    district: str


@dataclass(frozen=True)
class ReserveClaim:
    """A reserve request as the registry sees it: the national code is already unsealed."""

    tx_id: str
    national_code: NationalCode
    document: DocumentKind
    training: bool
    requester: Requester


@dataclass(frozen=True)
class Reserved:
    """This transaction holds the voter's reservation (now, or since an earlier try)."""

    inquiry_code: str


@dataclass(frozen=True)
class Duplicate:
    """Another transaction holds the voter, made at `first_branch`; `first_at` is when its slip was
    issued, or when it was reserved if no slip is confirmed yet."""

    first_branch: str
    first_at: datetime


@dataclass(frozen=True)
class Ineligible:
    reason: IneligibleReason


@dataclass(frozen=True)
class AlreadyVoided:
    """This transaction was voided before; it can no longer reserve anyone."""


@dataclass(frozen=True)
class Refused:
    reason: RefusalReason


ReserveResult = Reserved | Duplicate | Ineligible | AlreadyVoided | Refused


@dataclass(frozen=True)
class Reservation:
    """One row of the registry, for invariant checks and reports. `voter` (the keyed hash) is None on a
    tombstone."""

    tx_id: str
    voter: str | None
    training: bool
    inquiry_code: str | None
    terminal: str
    branch: str
    state: ReservationState
    reprints: int


@dataclass(frozen=True)
class AnsweredRequest:
    """A request the center answered: whose, a digest of its signed bytes, and the signed answer it got."""

    request_id: str
    terminal: str
    request_digest: str
    answer: bytes


def utc_now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """One connection to the registry database. Open one per thread or process; they may share a file."""

    def __init__(self, path: Path, election_day: date, clock: Clock = utc_now, *, voter_key: bytes) -> None:
        """`voter_key` (see center.voter_key): national codes are kept only as HMACs under it."""
        self.election_day = election_day
        self._voter_key = voter_key
        self._clock = clock
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    def load_roll(self, records: Iterable[VoterRecord]) -> int | RollRefused:
        """Add voters in one transaction; if any is already registered, nothing is added."""
        rows = (
            (self._hash(r.national_code), r.birth_date.isoformat(), r.name, r.status.value) for r in records
        )
        self._db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self._db.executemany("INSERT INTO voters VALUES (?, ?, ?, ?)", rows)
        except sqlite3.IntegrityError:
            self._db.execute("ROLLBACK")
            return RollRefused((RollProblem(0, RollProblemKind.REPEATED_NATIONAL_CODE, "already registered"),))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return cursor.rowcount

    def voter(self, code: NationalCode) -> VoterRecord | None:
        row = self._db.execute(
            "SELECT birth_date, name, status FROM voters WHERE voter = ?", (self._hash(code),)
        ).fetchone()
        if row is None:
            return None
        return VoterRecord(code, date.fromisoformat(row[0]), row[1], VoterStatus(row[2]))

    def reserve(self, claim: ReserveClaim) -> ReserveResult:
        """First request for a voter wins; the same transaction again gets the same answer."""
        reason = ineligible_reason(self.voter(claim.national_code), self.election_day)
        if reason is not None:
            return Ineligible(reason)
        who = claim.requester
        voter = self._hash(claim.national_code)
        for _ in range(_CODE_ATTEMPTS):
            values = (
                claim.tx_id, voter, int(claim.training), new_inquiry_code(),
                claim.document.value, who.terminal, who.branch, who.district, format_time(self._clock()),
            )
            try:
                row = self._db.execute(_RESERVE, values).fetchone()
            except sqlite3.IntegrityError as exc:
                if "inquiry_code" not in str(exc):
                    raise
                continue
            return _reserve_result(claim, voter, row)
        raise RuntimeError("no free inquiry code after several tries; the code space is exhausted")

    def commit(self, tx_id: str, requester: Requester, inquiry_code: str, reprints: int) -> CommitOutcome:
        """The slip was printed: the reservation becomes an issued vote. Idempotent."""
        row = self._db.execute(
            _COMMIT, (format_time(self._clock()), reprints, tx_id, requester.terminal, inquiry_code)
        ).fetchone()
        return CommitOutcome.COMMITTED if row is not None else CommitOutcome.NOT_RESERVED

    def void(self, tx_id: str, requester: Requester, reason: VoidReason) -> VoidOutcome | Refused:
        """The reservation will not become a slip: the voter is free again. Idempotent."""
        who = requester
        values = (tx_id, who.terminal, who.branch, who.district, format_time(self._clock()), reason.value)
        row = self._db.execute(_VOID, values).fetchone()
        if row is None:
            return Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
        if row[0] == ReservationState.COMMITTED:
            return VoidOutcome.ALREADY_COMMITTED
        return VoidOutcome.VOIDED

    def record_poll_event(self, tx_id: str, requester: Requester, kind: RequestKind, detail: str) -> None:
        """Keep an open or close report (its JSON detail); the same transaction again changes nothing."""
        who = requester
        self._db.execute(
            "INSERT INTO poll_events VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tx_id) DO NOTHING",
            (tx_id, kind.value, who.terminal, who.branch, who.district, format_time(self._clock()), detail),
        )

    def poll_events(self, terminal: str) -> list[tuple[RequestKind, str]]:
        """A terminal's open and close reports, oldest first, as (kind, JSON detail)."""
        rows = self._db.execute(
            "SELECT kind, detail FROM poll_events WHERE terminal = ? ORDER BY at, rowid", (terminal,)
        )
        return [(RequestKind(kind), detail) for kind, detail in rows]

    def answered_request(self, request_id: str) -> AnsweredRequest | None:
        """The stored answer to a request id, if the center answered it before (kept across restarts)."""
        row = self._db.execute(
            "SELECT terminal, request_digest, answer FROM answered_requests WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else AnsweredRequest(request_id, row[0], row[1], bytes(row[2]))

    def remember_answer(self, answered: AnsweredRequest) -> None:
        """Keep the answer to a request (inside the transaction that made the change it reports)."""
        self._db.execute(
            "INSERT INTO answered_requests VALUES (?, ?, ?, ?, ?)",
            (answered.request_id, answered.terminal, answered.request_digest, answered.answer,
             format_time(self._clock())),
        )
        self._db.execute(
            "INSERT INTO answered_per_terminal VALUES (?, 1)"
            " ON CONFLICT (terminal) DO UPDATE SET answered = answered + 1",
            (answered.terminal,),
        )

    def answered_count(self, terminal: str) -> int:
        """How many answers the center keeps for `terminal` (one row read, not a count of its answers)."""
        row = self._db.execute(
            "SELECT answered FROM answered_per_terminal WHERE terminal = ?", (terminal,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several statements as one, under the write lock: a request's check, its change and its kept answer."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def reservations(self) -> list[Reservation]:
        rows = self._db.execute(
            "SELECT tx_id, voter, training, inquiry_code, terminal, branch, state, reprints"
            " FROM reservations ORDER BY rowid"
        )
        return [
            Reservation(tx_id, voter, bool(training), inquiry, terminal, branch, ReservationState(state), reprints)
            for tx_id, voter, training, inquiry, terminal, branch, state, reprints in rows
        ]

    def voter_of(self, code: NationalCode) -> str:
        """The keyed hash the registry keeps for this code (to find a voter's reservations)."""
        return self._hash(code)

    def _hash(self, code: NationalCode) -> str:
        return keyed_hash(self._voter_key, code)


def _reserve_result(
    claim: ReserveClaim, voter: str, row: tuple[str, str | None, str, str, str, str, str]
) -> ReserveResult:
    tx_id, held_by, inquiry_code, terminal, branch, state, first_at = row
    if tx_id != claim.tx_id:
        return Duplicate(branch, datetime.fromisoformat(first_at))
    if terminal != claim.requester.terminal:
        return Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
    if state == ReservationState.VOIDED and held_by in (None, voter):
        return AlreadyVoided()
    if held_by != voter:
        return Refused(RefusalReason.TX_OF_OTHER_VOTER)
    return Reserved(inquiry_code)
