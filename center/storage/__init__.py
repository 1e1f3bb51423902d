"""The registry's storage: the few statements the registry's rules run, behind one interface with two engines."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol


class RegistryUnavailableError(Exception):
    """The registry database cannot be reached or is busy; nothing was changed, the request may be tried again."""


class OutdatedRegistryError(RuntimeError):
    """The registry's tables were made by an older version and lack columns this one needs; it is not opened."""


class ReservationState(enum.StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    VOIDED = "VOIDED"


@dataclass(frozen=True)
class Requester:
    """The terminal a request came from, as its topic and header name it. Terminal names are unique only within
    their district: a terminal is (district, terminal) everywhere in the registry."""

    terminal: str
    branch: str
    district: str


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
    district: str
    state: ReservationState
    reprints: int


@dataclass(frozen=True)
class AnsweredRequest:
    """A request the center answered: whose (district and terminal), a digest of its signed bytes, and the signed
    answer it got."""

    request_id: str
    district: str
    terminal: str
    request_digest: str
    answer: bytes


@dataclass(frozen=True)
class MinutesRow:
    """A branch's minutes as the registry keeps them: from which terminal (and its branch and district), in which
    transaction, their hash and canonical JSON (protocol.codec.encode_minutes), the signed request that carried
    them (the terminal's signature over them: the evidence), when they came, whether they are a training day's, and
    whether the terminal's closing report was not yet at the center when they came."""

    requester: Requester
    tx_id: str
    minutes_hash: str
    minutes: str
    request: bytes
    received_at: datetime
    training: bool
    before_closing: bool


@dataclass(frozen=True)
class OfflineSlipRow:
    """One replayed OFFLINE slip as the registry keeps it (center.reconcile.ReconcileRecord): its permit and offline
    code, the SHA-256 of its signed record (`digest`) and the record itself (`record`, the evidence), the outcome,
    the registry transaction it reserved under, the terminal that issued it (and its branch and district), when,
    the voter's keyed hash, the permit faults (comma-separated), the slip that already held the voter (JSON, on a
    double vote), why the voter is ineligible, and when the replay came."""

    permit_id: str
    offline_code: str
    digest: str
    outcome: str
    tx_id: str
    requester: Requester
    issued_at: datetime
    voter: str
    faults: str
    other: str | None
    ineligible: str | None
    record: bytes
    received_at: datetime


@dataclass(frozen=True)
class VoterRow:
    """A voter of the roll as stored: `voter` is the keyed hash of the national code."""

    voter: str
    birth_date: date
    name: str
    status: str


@dataclass(frozen=True)
class NewReservation:
    """The row a reserve tries to insert."""

    tx_id: str
    voter: str
    training: bool
    inquiry_code: str
    document: str
    requester: Requester
    at: datetime
    snapshot_tag: int
    """The voter's tag of the day for the "already voted" snapshot, its top 63 bits (protocol.voted_snapshot's
    64-bit tag shifted right once, so it fits a signed 64-bit column); a snapshot keeps at most its top 36 bits."""


@dataclass(frozen=True)
class Holder:
    """The row that decides a reserve: the one just inserted, the voter's live reservation, or the transaction's
    earlier row (in that order of preference). `first_at` is when its slip was issued, else when it was reserved
    (None on a tombstone)."""

    tx_id: str
    voter: str | None
    inquiry_code: str | None
    terminal: str
    branch: str
    district: str
    state: ReservationState
    first_at: datetime | None


@dataclass(frozen=True)
class RollGate:
    """What a roll entry must show for a reserve to insert: its status and a birth date no later than `born_by`.
    The registry makes it from center.eligibility (which proves it agrees with the rule); the engines apply it
    inside the reserve statement, so the roll read and the reserve are one round trip."""

    status: str
    born_by: date

    def admits(self, row: VoterRow | None) -> bool:
        return row is not None and row.status == self.status and row.birth_date <= self.born_by


@dataclass(frozen=True)
class ReserveFound:
    """What one reserve statement saw: the voter's roll entry (None if not on the roll) and the holder that
    decides (None if nothing was inserted and no such row was found)."""

    roll: VoterRow | None
    holder: Holder | None


class RegistryStorage(Protocol):
    """One session on the registry database, used by one thread at a time. Every method is one statement (or one
    COPY), atomic on its own; `transaction` makes several of them one."""

    def transaction(self) -> AbstractContextManager[None]:
        """The statements run inside are committed together at the end, or not at all if it raises."""
        ...

    def add_voters(self, rows: Iterable[VoterRow]) -> int | None:
        """Add voters all at once; None (and nothing added) if any is already registered."""
        ...

    def voter(self, voter: str) -> VoterRow | None: ...

    def reserve(self, row: NewReservation, gate: RollGate) -> ReserveFound:
        """Read the voter's roll entry and, if `gate` admits it, insert `row` unless the voter has a live
        reservation (of the same training flag) or the transaction has a row already: one atomic statement, one
        round trip. The roll entry, and the holder that decides; no holder if nothing was inserted and no such row
        is found (the inquiry code is taken, or the row it met changed meanwhile): try another code."""
        ...

    def commit(self, tx_id: str, requester: Requester, inquiry_code: str, reprints: int, at: datetime) -> bool:
        """A live reservation of this transaction, terminal (district and name) and code becomes COMMITTED (kept if
        it already is), with the highest reprint count; False if there is none."""
        ...

    def void(self, tx_id: str, requester: Requester, reason: str, at: datetime) -> ReservationState | None:
        """A reservation of this transaction becomes VOIDED unless COMMITTED; an unknown transaction gets a
        tombstone. The state after; None if the transaction is another terminal's, of this district or another
        (nothing changed)."""
        ...

    def add_poll_event(self, tx_id: str, requester: Requester, kind: str, detail: str, at: datetime) -> None:
        """Keep an open or close report; an event of the same transaction already kept is left as it is."""
        ...

    def poll_events(self, district: str, terminal: str) -> list[tuple[str, str]]:
        """(kind, detail) of a terminal's events, oldest first."""
        ...

    def committed_count(self, district: str, branch: str) -> int:
        """How many slips of this district's `branch` (all its terminals) are COMMITTED, training slips apart."""
        ...

    def minutes_hashes(self, district: str, branch: str, training: bool) -> list[str]:
        """The hashes of the minutes kept for this district's `branch` (any of its terminals, of this training
        flag), each once, in the order they first came. Inside a transaction it also holds the branch's minutes
        until the transaction ends, so that two sessions recording minutes of one branch take turns."""
        ...

    def add_minutes(self, row: MinutesRow) -> bool:
        """Keep minutes; False (nothing changed) if this terminal's minutes of that hash are already kept."""
        ...

    def minutes_of(self, district: str, training: bool) -> list[MinutesRow]:
        """Every minutes row of the district of this training flag, in the order they came."""
        ...

    def offline_slips(self, permit_id: str, offline_code: str) -> list[OfflineSlipRow]:
        """The records kept under one offline slip's key, oldest first. Inside a transaction it also holds that key
        until the transaction ends, so that two sessions replaying the same slip take turns."""
        ...

    def add_offline_slip(self, row: OfflineSlipRow) -> bool:
        """Keep a replayed slip's record; False (nothing changed) if a record of the same key and digest is kept."""
        ...

    def offline_slip_of(self, tx_id: str) -> OfflineSlipRow | None:
        """The first record kept for the offline slip that reserved under this registry transaction, if any."""
        ...

    def offline_slips_of(self, district: str) -> list[OfflineSlipRow]:
        """Every record of the district's replayed offline slips, in the order they came."""
        ...

    def answered_request(self, request_id: str) -> AnsweredRequest | None:
        """The kept answer to a request id, whichever terminal it was (request ids are random and unique)."""
        ...

    def remember_answer(self, answered: AnsweredRequest, at: datetime, keep: int) -> None:
        """Keep an answer and count it for its terminal (district and name); of that terminal's answers only the
        newest `keep` stay."""
        ...

    def answered_count(self, district: str, terminal: str) -> int:
        """How many answers were ever given to this district's `terminal` (one row read)."""
        ...

    def reservations(self) -> list[Reservation]:
        """Every row, in the order they were made."""
        ...

    def committed_tags(self, district: str | None, after: datetime | None, until: datetime) -> Iterator[int]:
        """The snapshot tags (NewReservation.snapshot_tag) of the slips committed in (`after`, `until`], not
        training, of `district` (None: the nation), streamed rather than fetched at once."""
        ...

    def close(self) -> None: ...


REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "reservations": ("district", "snapshot_tag"),
    "poll_events": ("district",),
    "answered_requests": ("district", "seq"),
    "answered_per_terminal": ("district",),
}
"""Columns older versions' tables lack: `seq` came with pruning, `district` with keying terminals by district and
name (terminal names are unique only within a district), `snapshot_tag` with the "already voted" snapshot."""


def refuse_outdated(where: str, found: Iterable[tuple[str, str]]) -> None:
    """Raise OutdatedRegistryError naming each required column missing from `found` (table, column) pairs."""
    present = set(found)
    missing = [f"{table}.{column}" for table, columns in REQUIRED_COLUMNS.items() for column in columns
               if (table, column) not in present]
    if missing:
        raise OutdatedRegistryError(
            f"{where} was made by an older version and lacks the columns {', '.join(missing)}; it is not opened "
            "(finish that election on the version that made it, or start a new registry and load the roll again)")


@dataclass(frozen=True)
class PostgresSettings:
    """The national registry on PostgreSQL: a libpq connection string, the nodes of its replicated cluster, and the
    size of this process's pool."""

    dsn: str
    pool_size: int = 4
    hosts: tuple[str, ...] = ()
    """The cluster's nodes, each "host:port" (or "host", port 5432), in the order to try them. Connections go only
    to the node that accepts writes (libpq's multi-host conninfo with target_session_attrs=read-write), so after a
    failover new connections find the new primary by themselves. Empty: the host (or hosts) the dsn names; a dsn
    naming several hosts gets target_session_attrs=read-write too."""


RegistryLocation = Path | PostgresSettings
"""Where the registry lives: an SQLite file (the embedded engine, one district) or the national PostgreSQL."""


class RegistryDatabase(Protocol):
    """An opened registry database (for PostgreSQL, its connection pool); sessions for each thread."""

    def session(self) -> RegistryStorage: ...

    def close(self) -> None: ...


def open_database(location: RegistryLocation) -> RegistryDatabase:
    """Open the registry where `location` says, creating its tables if they are missing."""
    if isinstance(location, PostgresSettings):
        from center.storage.postgres import PostgresDatabase

        return PostgresDatabase(location)
    from center.storage.sqlite import SqliteDatabase

    return SqliteDatabase(location)
