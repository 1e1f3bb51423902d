"""The national registry engine: PostgreSQL through a psycopg connection pool, every statement prepared on the server."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from center.storage import (
    REQUIRED_COLUMNS,
    AnsweredRequest,
    Holder,
    MinutesRow,
    NewReservation,
    OfflineSlipRow,
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

log = logging.getLogger(__name__)
_POOL_WAIT_SECONDS = 30.0
"""How long opening the registry waits for its first connections (at start-up)."""
_CONNECTION_WAIT_SECONDS = 3.0
"""How long a statement waits for a pool connection (none is free, or the pool is reconnecting after a failover)
before the request is left unanswered (RegistryUnavailableError): the terminal waits 3 s for a reserve's answer and
then asks again, so waiting longer only answers a request nobody waits for."""
_RECONNECT_SECONDS = 2.0
"""How long the pool keeps trying to replace a lost connection in the background (psycopg_pool backs off
exponentially, 1 s, 2 s, ...) before it gives the slot up; a statement that then finds the pool empty makes it
connect again at once. Short, so that after a failover the pool reaches the new primary within about a second of
its promotion instead of after a back-off of tens of seconds."""
_DEFAULT_PORT = 5432
_CONNECTION_DEFAULTS = {
    "connect_timeout": "3",
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}
"""libpq options given unless the dsn sets them (TCP only; libpq ignores them on a Unix socket): a node that does
not answer (its machine is gone) costs at most 3 s before the next host is tried, and a connection to a primary
that vanished without closing its sockets is found broken in about 10 s, not after the kernel's 15 minutes."""
_WRITABLE = ("read-write", "primary")
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
        made bigint GENERATED ALWAYS AS IDENTITY,
        snapshot_tag bigint
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
    """CREATE TABLE IF NOT EXISTS minutes (
        district text NOT NULL,
        branch text NOT NULL,
        terminal text NOT NULL,
        minutes_hash text NOT NULL,
        tx_id text NOT NULL,
        minutes text NOT NULL,
        request bytea NOT NULL,
        received_at timestamptz NOT NULL,
        training boolean NOT NULL,
        before_closing boolean NOT NULL,
        made bigint GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (district, branch, terminal, minutes_hash)
    )""",
    """CREATE TABLE IF NOT EXISTS offline_slips (
        permit_id text NOT NULL,
        offline_code text NOT NULL,
        digest text NOT NULL,
        outcome text NOT NULL,
        tx_id text NOT NULL,
        terminal text NOT NULL,
        branch text NOT NULL,
        district text NOT NULL,
        issued_at timestamptz NOT NULL,
        voter text NOT NULL,
        faults text NOT NULL,
        other text,
        ineligible text,
        record bytea NOT NULL,
        received_at timestamptz NOT NULL,
        made bigint GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (permit_id, offline_code, digest)
    )""",
    "CREATE INDEX IF NOT EXISTS offline_slips_of_tx ON offline_slips (tx_id)",
    "CREATE INDEX IF NOT EXISTS offline_slips_of_district ON offline_slips (district, made)",
)
# Made once the columns are known to be there (tables of an older version lack them, and are refused by name).
_INDEXES: tuple[LiteralString, ...] = (
    "CREATE INDEX IF NOT EXISTS poll_events_of_district_terminal ON poll_events (district, terminal, at, made)",
    "CREATE INDEX IF NOT EXISTS answers_of_district_terminal ON answered_requests (district, terminal, seq)",
    # Only a commit adds to it (a reserve's row is not COMMITTED yet): the closing answer's count of a branch.
    """CREATE INDEX IF NOT EXISTS committed_of_branch ON reservations (district, branch)
        WHERE state = 'COMMITTED' AND NOT training""",
    # The "already voted" snapshot's deltas: the slips committed since the last version.
    """CREATE INDEX IF NOT EXISTS committed_in_order ON reservations (committed_at)
        WHERE state = 'COMMITTED' AND NOT training""",
)
_OFFLINE_LOCK = 0x766B4F46  # "vkOF": with hashtext(permit/code), one session at a time replays an offline slip
_OFFLINE_COLUMNS: LiteralString = ("permit_id, offline_code, digest, outcome, tx_id, terminal, branch, district,"
                                   " issued_at, voter, faults, other, ineligible, record, received_at")
_OFFLINE_SELECT: LiteralString = "SELECT " + _OFFLINE_COLUMNS + " FROM offline_slips"
_TAG_BATCH = 50_000
_MINUTES_LOCK = 0x766B4D49  # "vkMI": with hashtext(district/branch), one session at a time records a branch's minutes
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
        (tx_id, voter, training, inquiry_code, document, terminal, branch, district, state, reserved_at, snapshot_tag)
    SELECT %(tx)s, %(voter)s, %(training)s, %(code)s, %(document)s, %(terminal)s, %(branch)s, %(district)s,
           'RESERVED', %(at)s, %(tag)s
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



def registry_conninfo(settings: PostgresSettings) -> str:
    """The connection string the pool uses: the dsn, with the `hosts` as libpq's host and port lists, and
    target_session_attrs=read-write whenever there are several hosts (so a standby is never written to), and the
    TCP defaults of _CONNECTION_DEFAULTS. ValueError naming the option ("dsn: ..." or "hosts: ...") if they do not
    fit together."""
    try:
        options = conninfo_to_dict(settings.dsn)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"dsn: not a libpq connection string ({exc})") from exc
    if settings.hosts:
        named = sorted(key for key in ("host", "hostaddr", "port") if key in options)
        if named:
            raise ValueError(f"hosts: give the nodes either in hosts or in the dsn, not both (the dsn has "
                             f"{', '.join(named)})")
        nodes = [split_node(entry) for entry in settings.hosts]
        options["host"] = ",".join(host for host, _ in nodes)
        options["port"] = ",".join(str(port) for _, port in nodes)
    if len(str(options.get("host", "")).split(",")) > 1 or len(str(options.get("hostaddr", "")).split(",")) > 1:
        attrs = options.setdefault("target_session_attrs", "read-write")
        if attrs not in _WRITABLE:
            raise ValueError(f"dsn: target_session_attrs={attrs} with several hosts could reach a standby, which "
                             "refuses writes (read-write or primary)")
    for key, value in _CONNECTION_DEFAULTS.items():
        options.setdefault(key, value)
    return make_conninfo("", **options)


def split_node(entry: str) -> tuple[str, int]:
    """"host:port", "[v6 address]:port" or "host" (port 5432); ValueError naming the entry."""
    host, port = entry, str(_DEFAULT_PORT)
    if entry.startswith("["):
        address, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"hosts: {entry!r} is not [address]:port")
        host, port = address, rest[1:] if rest else port
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    elif ":" in entry:
        raise ValueError(f"hosts: {entry!r}: an IPv6 address goes in brackets, [address]:port")
    if not host.strip() or any(c in host for c in " ,='\\") or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"hosts: {entry!r} is not host:port (a port from 1 to 65535)")
    return host, int(port)


class PostgresDatabase:
    """A connection pool to the national registry; the tables are made on first use. Sessions share the pool.

    Failover: the conninfo names every node of the cluster and connects only to the primary, so a new connection
    finds the primary that is (registry_conninfo). A connection that breaks (the primary died) fails its statement
    with RegistryUnavailableError, and the pool drops it instead of taking it back; the first such failure also
    makes the pool test its idle connections in the background (ConnectionPool.check), so those to the dead server
    are dropped before anyone draws them. Lost connections are replaced in the background, and on demand once
    that gives up (_RECONNECT_SECONDS): the pool recovers by itself, the process is never restarted."""

    def __init__(self, settings: PostgresSettings) -> None:
        self.settings = settings
        self._pool = ConnectionPool(
            registry_conninfo(settings), min_size=settings.pool_size, max_size=settings.pool_size, open=False,
            kwargs={"autocommit": True}, name="registry", timeout=_CONNECTION_WAIT_SECONDS,
            reconnect_timeout=_RECONNECT_SECONDS, reconnect_failed=_reconnect_failed,
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
        except (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction) as exc:
            self._pool.close()
            raise RegistryUnavailableError(str(exc)) from exc
        except OutdatedRegistryError:
            self._pool.close()
            raise
        self._checks = _PoolCheck(self._pool)

    def session(self) -> PostgresStorage:
        return PostgresStorage(self._pool, self._checks)

    def close(self) -> None:
        self._pool.close()


class PostgresStorage:
    """Takes a pool connection for each statement, or for a whole `transaction`, and gives it back after.
    Connections are in autocommit, so a statement on its own is its own transaction (one round trip)."""

    def __init__(self, pool: ConnectionPool, checks: _PoolCheck) -> None:
        self._pool = pool
        self._checks = checks
        self._held: psycopg.Connection[Any] | None = None

    def close(self) -> None:
        """The pool stays open for the other sessions; PostgresDatabase.close closes it."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._held is not None:
            raise RuntimeError("a registry transaction is already open in this session")
        with self._checks.unavailable_on_errors(), self._pool.connection() as conn, conn.transaction():
            self._held = conn
            try:
                yield
            finally:
                self._held = None

    def add_voters(self, rows: Iterable[VoterRow]) -> int | None:
        count = 0
        try:
            with (self._checks.unavailable_on_errors(), self._connection() as conn, conn.transaction(),
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
                  "district": who.district, "at": row.at, "status": gate.status, "born_by": gate.born_by,
                  "tag": row.snapshot_tag}
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

    def committed_tags(self, district: str | None, after: datetime | None, until: datetime) -> Iterator[int]:
        """Through a server-side cursor, in batches, so a national snapshot is never fetched at once."""
        query: LiteralString = ("SELECT snapshot_tag FROM reservations WHERE state = 'COMMITTED' AND NOT training"
                                " AND committed_at > %(after)s AND committed_at <= %(until)s"
                                " AND snapshot_tag IS NOT NULL AND (%(district)s::text IS NULL OR district = %(district)s)")
        values = {"after": after or datetime.min.replace(tzinfo=UTC), "until": until, "district": district}
        with (self._checks.unavailable_on_errors(), self._connection() as conn, conn.transaction(),
              conn.cursor(name="committed_tags") as cursor):
            cursor.itersize = _TAG_BATCH
            cursor.execute(query, values)
            for (tag,) in cursor:
                yield int(tag)

    def committed_count(self, district: str, branch: str) -> int:
        row = self._one("SELECT count(*) FROM reservations WHERE district = %s AND branch = %s"
                        " AND state = 'COMMITTED' AND NOT training", (district, branch))
        return int(row[0])

    def minutes_hashes(self, district: str, branch: str, training: bool) -> list[str]:
        """Inside a transaction, an advisory lock of the branch is held to its end first."""
        if self._held is not None:
            self._run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_MINUTES_LOCK, f"{district}/{branch}"))
        rows = self._all("SELECT minutes_hash FROM minutes WHERE district = %s AND branch = %s AND training = %s"
                         " GROUP BY minutes_hash ORDER BY min(made)", (district, branch, training))
        return [digest for (digest,) in rows]

    def add_minutes(self, row: MinutesRow) -> bool:
        who = row.requester
        inserted = self._one(
            "INSERT INTO minutes (district, branch, terminal, minutes_hash, tx_id, minutes, request, received_at,"
            " training, before_closing) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            (who.district, who.branch, who.terminal, row.minutes_hash, row.tx_id, row.minutes, row.request,
             row.received_at, row.training, row.before_closing))
        return inserted is not None

    def minutes_of(self, district: str, training: bool) -> list[MinutesRow]:
        rows = self._all(
            "SELECT branch, terminal, minutes_hash, tx_id, minutes, request, received_at, before_closing"
            " FROM minutes WHERE district = %s AND training = %s ORDER BY made", (district, training))
        return [MinutesRow(Requester(terminal, branch, district), tx_id, digest, minutes, bytes(request),
                           received_at, training, before)
                for branch, terminal, digest, tx_id, minutes, request, received_at, before in rows]

    def offline_slips(self, permit_id: str, offline_code: str) -> list[OfflineSlipRow]:
        """Inside a transaction, an advisory lock of the slip's key is held to its end first."""
        if self._held is not None:
            self._run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_OFFLINE_LOCK, f"{permit_id}/{offline_code}"))
        return _offline_rows(self._all(_OFFLINE_SELECT + " WHERE permit_id = %s AND offline_code = %s ORDER BY made",
                                       (permit_id, offline_code)))

    def add_offline_slip(self, row: OfflineSlipRow) -> bool:
        who = row.requester
        inserted = self._one(
            "INSERT INTO offline_slips (" + _OFFLINE_COLUMNS + ") VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (row.permit_id, row.offline_code, row.digest, row.outcome, row.tx_id, who.terminal, who.branch,
             who.district, row.issued_at, row.voter, row.faults, row.other, row.ineligible, row.record,
             row.received_at))
        return inserted is not None

    def offline_slip_of(self, tx_id: str) -> OfflineSlipRow | None:
        rows = _offline_rows(self._all(_OFFLINE_SELECT + " WHERE tx_id = %s ORDER BY made LIMIT 1", (tx_id,)))
        return rows[0] if rows else None

    def offline_slips_of(self, district: str) -> list[OfflineSlipRow]:
        return _offline_rows(self._all(_OFFLINE_SELECT + " WHERE district = %s ORDER BY made", (district,)))

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
        with self._checks.unavailable_on_errors(), self._connection() as conn:
            return conn.execute(query, values, prepare=True).fetchone()

    def _all(self, query: LiteralString, values: Any) -> list[Any]:
        with self._checks.unavailable_on_errors(), self._connection() as conn:
            return conn.execute(query, values, prepare=True).fetchall()

    def _run(self, query: LiteralString, values: Any) -> None:
        with self._checks.unavailable_on_errors(), self._connection() as conn:
            conn.execute(query, values, prepare=True)


def _offline_rows(rows: list[Any]) -> list[OfflineSlipRow]:
    return [OfflineSlipRow(permit, code, digest, outcome, tx_id, Requester(terminal, branch, district), issued_at,
                           voter, faults, other, ineligible, bytes(record), received_at)
            for (permit, code, digest, outcome, tx_id, terminal, branch, district, issued_at, voter, faults, other,
                 ineligible, record, received_at) in rows]


class _PoolCheck:
    """Turns engine errors that mean "not now" into RegistryUnavailableError, and on a lost connection has the pool
    test its idle connections in the background, one check at a time."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._checking = threading.Lock()

    @contextlib.contextmanager
    def unavailable_on_errors(self) -> Iterator[None]:
        """A lost server, a pool that cannot give a connection in time, a deadlock or serialisation failure
        (psycopg.OperationalError, of which PoolTimeout is one), a write that reached a node no longer primary
        (ReadOnlySqlTransaction): the transaction did not happen, or, for a connection lost during COMMIT, may
        have; every request is idempotent per transaction, so the terminal's retry settles it either way."""
        try:
            yield
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise RegistryUnavailableError(str(exc)) from exc
        except psycopg.OperationalError as exc:
            if not isinstance(exc, PoolTimeout | psycopg.errors.TransactionRollback):
                self._check_idle_connections()
            raise RegistryUnavailableError(str(exc)) from exc

    def _check_idle_connections(self) -> None:
        if self._checking.acquire(blocking=False):
            threading.Thread(target=self._check, name="registry-pool-check", daemon=True).start()

    def _check(self) -> None:
        try:
            if not self._pool.closed:
                self._pool.check()
        except PoolClosed:
            pass
        finally:
            self._checking.release()


def _reconnect_failed(pool: ConnectionPool) -> None:
    log.warning("the registry pool could not reconnect for %.0f s; it connects again when a request needs it",
                _RECONNECT_SECONDS)
