"""The PostgreSQL registry's pool after its server dropped every connection: each broken one fails one statement at
most, is dropped, and the pool reconnects by itself; a node that refuses writes is unavailable, never a fault."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest

from center.registry import Registry, ReserveClaim, Reserved
from center.storage import PostgresSettings, RegistryDatabase, RegistryUnavailableError, open_database
from harness.postgres import PostgresCluster
from protocol.messages import DocumentKind
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A, ELECTION_DAY, SMALL_ROLL, VOTER_KEY

pytestmark = pytest.mark.real_peer
POOL_SIZE = 3
_ATTEMPTS = 200


@pytest.fixture
def database_name(postgres: PostgresCluster) -> str:
    name = f"reconnect_{secrets.token_hex(4)}"
    postgres.create_database(name)
    return name


@pytest.fixture
def database(postgres: PostgresCluster, database_name: str) -> Iterator[RegistryDatabase]:
    opened = open_database(PostgresSettings(postgres.dsn(database_name), pool_size=POOL_SIZE))
    setup = Registry(opened.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    assert setup.load_roll(SMALL_ROLL) == len(SMALL_ROLL)
    yield opened
    opened.close()


def _drop_connections(postgres: PostgresCluster, database_name: str) -> int:
    """What a restarting or failing server does to its clients: end every backend of the database."""
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                            (database_name,)).fetchall()
    return len(rows)


def _claim(code: str = "") -> ReserveClaim:
    return ReserveClaim(code or secrets.token_hex(16), ADULT, DocumentKind.SMART_CARD, False, BRANCH_A)


def test_connections_the_server_dropped_fail_once_each_and_the_pool_reconnects_by_itself(
    postgres: PostgresCluster, database_name: str, database: RegistryDatabase
) -> None:
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    assert _drop_connections(postgres, database_name) == POOL_SIZE
    failed: list[str] = []
    answer = None
    for _ in range(_ATTEMPTS):
        claim = _claim()
        try:
            answer = registry.reserve(claim)
            break
        except RegistryUnavailableError:
            failed.append(claim.tx_id)
    assert isinstance(answer, Reserved), f"the pool never recovered ({len(failed)} failures)"
    assert len(failed) <= POOL_SIZE, "a broken connection was handed out again after it failed"
    rows = registry.reservations()
    assert [row.tx_id for row in rows] == [claim.tx_id], "a statement that failed changed something"
    other = ReserveClaim(secrets.token_hex(16), ADULT_TWO, DocumentKind.SMART_CARD, False, BRANCH_A)
    assert all(isinstance(registry.reserve(claim), Reserved) for claim in [other] * POOL_SIZE * 2), \
        "the same transaction again must get its code, on every connection of the pool"


def test_a_registry_node_that_refuses_writes_is_unavailable_not_a_fault(
    postgres: PostgresCluster, database_name: str, database: RegistryDatabase
) -> None:
    """A node in recovery (a standby, or a primary being demoted) refuses writes: the request is left unanswered
    and retried, as when the server is gone, and opening the registry there fails the same way."""
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(
            psycopg.sql.Identifier(database_name)))
    _drop_connections(postgres, database_name)
    causes: list[BaseException | None] = []
    for _ in range(POOL_SIZE + 1):
        with pytest.raises(RegistryUnavailableError) as refused:
            registry.reserve(_claim())
        causes.append(refused.value.__cause__)
    assert isinstance(causes[-1], psycopg.errors.ReadOnlySqlTransaction), causes
    assert registry.reservations() == []
    with pytest.raises(RegistryUnavailableError):
        open_database(PostgresSettings(postgres.dsn(database_name), pool_size=1))
