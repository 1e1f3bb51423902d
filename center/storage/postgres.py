"""The national registry engine: PostgreSQL through a psycopg connection pool, every statement prepared on the server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from center.storage import (
    REQUIRED_COLUMNS,
    AnsweredRequest,
    Holder,
    NewReservation,
    OutdatedRegistryError,
    PostgresSettings,
    RegistryUnavailableError,
    Requester,
    Reservation,
    ReservationState,
    ReserveFound,
    RollGate,
    VoterRow,
    refuse_outdated,
)

_POOL_WAIT_SECONDS = 30.0
_SCHEMA_LOCK = 0x766B5245  # "vkRE": one center at a time creates the tables
_SCHEMA: tuple[LiteralString, ...] = (
    """CREATE TABLE IF NOT EXISTS voters (
        voter text PRIMARY KEY,
        birth_date date NOT NULL,
        name text NOT NULL,
        status text NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS reservations (
        tx_id text PRIMARY KEY,
        voter text,
        training boolean NOT NULL,
        inquiry_code text UNIQUE,
        document text,
        terminal text NOT NULL,
        branch text NOT NULL,
        district text NOT NULL,
        state text NOT NULL CHECK (state IN ('RESERVED', 'COMMITTED', 'VOIDED')),
        reserved_at timestamptz,
        committed_at timestamptz,
        voided_at timestamptz,
        void_reason text,
        reprints integer NOT NULL DEFAULT 0,
        made bigint GENERATED ALWAYS AS IDENTITY
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS one_live_reservation_per_voter
        ON reservations (voter, training) WHERE state <> 'VOIDED'""",
    """CREATE TABLE IF NOT EXISTS poll_events (
        tx_id text PRIMARY KEY,
        kind text NOT NULL,
        terminal text NOT NULL,
        branch text NOT NULL,
        district text NOT NULL,
        at timestamptz NOT NULL,
        detail text NOT NULL,
        made bigint GENERATED ALWAYS AS IDENTITY
    )""",
    """CREATE TABLE IF NOT EXISTS answered_requests (
        request_id text PRIMARY KEY,
        district text NOT NULL,
        terminal text NOT NULL,
        request_digest text NOT NULL,
        answer bytea NOT NULL,
        at timestamptz NOT NULL,
        seq bigint NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS answered_per_terminal (
        district text NOT NULL,
        terminal text NOT NULL,
        answered bigint NOT NULL,
        PRIMARY KEY (district, terminal)
    )""",
)
# Made once the columns are known to be there (tables of an older version lack them, and are refused by name).
_INDEXES: tuple[LiteralString, ...] = (
    "CREATE INDEX IF NOT EXISTS poll_events_of_district_terminal ON poll_events (district, terminal, at, made)",
    "CREATE INDEX IF NOT EXISTS answers_of_district_terminal ON answered_requests (district, terminal, seq)",
)
_COLUMNS_OF: LiteralString = """
SELECT table_name::text, column_name::text FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY(%s)
"""
# One statement decides, in one round trip: it reads the voter's roll entry; if the gate admits it, the insert skips
# on any unique conflict (a live reservation of the voter, a row of the transaction, a taken inquiry code), and the
# same statement reads the row it met, the voter's live one first. A row committed by another session after this
# statement's snapshot is not read: no holder comes back, and the caller runs the statement again (its new
# snapshot sees it). Always one row: the roll entry (or NULLs) beside the holder (or NULLs). Public for the bench,
# which runs it in pgbench too.
RESERVE_STATEMENT: LiteralString = """
WITH roll AS (
    SELECT birth_date, name, status FROM voters WHERE voter = %(voter)s
), inserted AS (
    INSERT INTO reservations
        (tx_id, voter, training, inquiry_code, document, terminal, branch, district, state, reserved_at)
    SELECT %(tx)s, %(voter)s, %(training)s, %(code)s, %(document)s, %(terminal)s, %(branch)s, %(district)s,
           'RESERVED', %(at)s
    FROM roll WHERE status = %(status)s AND birth_date <= %(born_by)s
    ON CONFLICT DO NOTHING
    RETURNING tx_id, voter, inquiry_code, terminal, branch, district, state, reserved_at
), held AS (
    SELECT tx_id, voter, inquiry_code, terminal, branch, district, state, reserved_at AS first_at, 0 AS preference
    FROM inserted
    UNION ALL (
        SELECT tx_id, voter, inquiry_code, terminal, branch, district, state, COALESCE(committed_at, reserved_at),
               CASE WHEN tx_id = %(tx)s THEN 2 ELSE 1 END
        FROM reservations
        WHERE NOT EXISTS (SELECT FROM inserted)
          AND (tx_id = %(tx)s OR (voter = %(voter)s AND training = %(training)s AND state <> 'VOIDED'))
    )
    ORDER BY preference
    LIMIT 1
)
SELECT roll.birth_date, roll.name, roll.status,
       held.tx_id, held.voter, held.inquiry_code, held.terminal, held.branch, held.district, held.state, held.first_at
FROM (VALUES (1)) AS one LEFT JOIN roll ON true LEFT JOIN held ON true
"""
_COMMIT: LiteralString = """
UPDATE reservations
SET state = 'COMMITTED', committed_at = COALESCE(committed_at, %s), reprints = GREATEST(reprints, %s)
WHERE tx_id = %s AND district = %s AND terminal = %s AND inquiry_code = %s AND state IN ('RESERVED', 'COMMITTED')
RETURNING state
"""
# A void of a transaction the center never saw leaves a tombstone, so a late reserve cannot revive it.
_VOID: LiteralString = """
INSERT INTO reservations AS r (tx_id, training, terminal, branch, district, state, voided_at, void_reason)
VALUES (%s, false, %s, %s, %s, 'VOIDED', %s, %s)
ON CONFLICT (tx_id) DO UPDATE SET
    state = CASE WHEN r.state = 'COMMITTED' THEN r.state ELSE 'VOIDED' END,
    voided_at = CASE WHEN r.state = 'RESERVED' THEN excluded.voided_at ELSE r.voided_at END,
    void_reason = CASE WHEN r.state = 'RESERVED' THEN excluded.void_reason ELSE r.void_reason END
WHERE r.district = excluded.district AND r.terminal = excluded.terminal
RETURNING state
"""
_COPY_VOTERS: LiteralString = "COPY voters (voter, birth_date, name, status) FROM STDIN"
# Count the answer, keep it, and drop the terminal's answers older than its newest `keep`, in one statement.
_REMEMBER: LiteralString = """
WITH counted AS (
    INSERT INTO answered_per_terminal AS a VALUES (%(district)s, %(terminal)s, 1)
    ON CONFLICT (district, terminal) DO UPDATE SET answered = a.answered + 1
    RETURNING answered
), kept AS (
    INSERT INTO answered_requests (request_id, district, terminal, request_digest, answer, at, seq)
    SELECT %(request)s, %(district)s, %(terminal)s, %(digest)s, %(answer)s, %(at)s, answered FROM counted
)
DELETE FROM answered_requests
WHERE district = %(district)s AND terminal = %(terminal)s AND seq <= (SELECT answered FROM counted) - %(keep)s
"""



class PostgresDatabase:
    """A connection pool to the national registry; the tables are made on first use. Sessions share the pool."""

    def __init__(self, settings: PostgresSettings) -> None:
        self.settings = settings
        self._pool = ConnectionPool(
            settings.dsn, min_size=settings.pool_size, max_size=settings.pool_size, open=False,
            kwargs={"autocommit": True}, name="registry",
        )
        try:
            self._pool.open(wait=True, timeout=_POOL_WAIT_SECONDS)
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    conn.execute(statement)
                found = conn.execute(_COLUMNS_OF, (list(REQUIRED_COLUMNS),)).fetchall()
                refuse_outdated(f"the registry database {conninfo_to_dict(settings.dsn).get('dbname', '?')}", found)
                for statement in _INDEXES:
                    conn.execute(statement)
        except psycopg.OperationalError as exc:
            self._pool.close()
            raise RegistryUnavailableError(str(exc)) from exc
        except OutdatedRegistryError:
            self._pool.close()
            raise

    def session(self) -> PostgresStorage:
        return PostgresStorage(self._pool)

    def close(self) -> None:
        self._pool.close()


class PostgresStorage:
    """Takes a pool connection for each statement, or for a whole `transaction`, and gives it back after.
    Connections are in autocommit, so a statement on its own is its own transaction (one round trip)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._held: psycopg.Connection[Any] | None = None

    def close(self) -> None:
        """The pool stays open for the other sessions; PostgresDatabase.close closes it."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._held is not None:
            raise RuntimeError("a registry transaction is already open in this session")
        with _unavailable_on_connection_errors(), self._pool.connection() as conn, conn.transaction():
            self._held = conn
            try:
                yield
            finally:
                self._held = None

    def add_voters(self, rows: Iterable[VoterRow]) -> int | None:
        count = 0
        try:
            with (_unavailable_on_connection_errors(), self._connection() as conn, conn.transaction(),
                  conn.cursor() as cursor, cursor.copy(_COPY_VOTERS) as copy):
                for row in rows:
                    copy.write_row((row.voter, row.birth_date, row.name, row.status))
                    count += 1
        except psycopg.errors.UniqueViolation:
            return None
        return count

    def voter(self, voter: str) -> VoterRow | None:
        row = self._one("SELECT birth_date, name, status FROM voters WHERE voter = %s", (voter,))
        return None if row is None else VoterRow(voter, row[0], row[1], row[2])

    def reserve(self, row: NewReservation, gate: RollGate) -> ReserveFound:
        who = row.requester
        values = {"tx": row.tx_id, "voter": row.voter, "training": row.training, "code": row.inquiry_code,
                  "document": row.document, "terminal": who.terminal, "branch": who.branch,
                  "district": who.district, "at": row.at, "status": gate.status, "born_by": gate.born_by}
        birth_date, name, status, tx_id, voter, inquiry_code, terminal, branch, district, state, first_at = (
            self._one(RESERVE_STATEMENT, values))
        roll = None if status is None else VoterRow(row.voter, birth_date, name, status)
        if tx_id is None:
            return ReserveFound(roll, None)
        holder = Holder(tx_id, voter, inquiry_code, terminal, branch, district, ReservationState(state), first_at)
        return ReserveFound(roll, holder)

    def commit(self, tx_id: str, requester: Requester, inquiry_code: str, reprints: int, at: datetime) -> bool:
        who = requester
        return self._one(_COMMIT, (at, reprints, tx_id, who.district, who.terminal, inquiry_code)) is not None

    def void(self, tx_id: str, requester: Requester, reason: str, at: datetime) -> ReservationState | None:
        who = requester
        row = self._one(_VOID, (tx_id, who.terminal, who.branch, who.district, at, reason))
        return None if row is None else ReservationState(row[0])

    def add_poll_event(self, tx_id: str, requester: Requester, kind: str, detail: str, at: datetime) -> None:
        who = requester
        self._run(
            "INSERT INTO poll_events (tx_id, kind, terminal, branch, district, at, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tx_id) DO NOTHING",
            (tx_id, kind, who.terminal, who.branch, who.district, at, detail),
        )

    def poll_events(self, district: str, terminal: str) -> list[tuple[str, str]]:
        rows = self._all("SELECT kind, detail FROM poll_events WHERE district = %s AND terminal = %s"
                         " ORDER BY at, made", (district, terminal))
        return [(kind, detail) for kind, detail in rows]

    def answered_request(self, request_id: str) -> AnsweredRequest | None:
        row = self._one(
            "SELECT district, terminal, request_digest, answer FROM answered_requests WHERE request_id = %s",
            (request_id,),
        )
        return None if row is None else AnsweredRequest(request_id, row[0], row[1], row[2], bytes(row[3]))

    def remember_answer(self, answered: AnsweredRequest, at: datetime, keep: int) -> None:
        self._run(_REMEMBER, {"district": answered.district, "terminal": answered.terminal,
                              "request": answered.request_id, "digest": answered.request_digest,
                              "answer": answered.answer, "at": at, "keep": keep})

    def answered_count(self, district: str, terminal: str) -> int:
        row = self._one("SELECT answered FROM answered_per_terminal WHERE district = %s AND terminal = %s",
                        (district, terminal))
        return 0 if row is None else int(row[0])

    def reservations(self) -> list[Reservation]:
        rows = self._all(
            "SELECT tx_id, voter, training, inquiry_code, terminal, branch, district, state, reprints"
            " FROM reservations ORDER BY made", ()
        )
        return [
            Reservation(tx_id, voter, training, inquiry, terminal, branch, district, ReservationState(state),
                        reprints)
            for tx_id, voter, training, inquiry, terminal, branch, district, state, reprints in rows
        ]

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._held is not None:
            yield self._held
            return
        with self._pool.connection() as conn:
            yield conn

    def _one(self, query: LiteralString, values: Any) -> Any:
        with _unavailable_on_connection_errors(), self._connection() as conn:
            return conn.execute(query, values, prepare=True).fetchone()

    def _all(self, query: LiteralString, values: Any) -> list[Any]:
        with _unavailable_on_connection_errors(), self._connection() as conn:
            return conn.execute(query, values, prepare=True).fetchall()

    def _run(self, query: LiteralString, values: Any) -> None:
        with _unavailable_on_connection_errors(), self._connection() as conn:
            conn.execute(query, values, prepare=True)


@contextlib.contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    """A lost server, a pool that cannot give a connection in time, a deadlock or serialisation failure
    (psycopg.OperationalError, of which PoolTimeout is one): the transaction did not happen."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise RegistryUnavailableError(str(exc)) from exc
