"""The registry: first request wins, retries get the same answer, commit and void are idempotent, void frees."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from center.registry import (
    AlreadyVoided,
    Duplicate,
    Ineligible,
    RefusalReason,
    Refused,
    Registry,
    Requester,
    ReservationState,
    ReserveClaim,
    Reserved,
)
from center.roll import RollProblemKind, RollRefused
from center.storage import (
    OutdatedRegistryError,
    PostgresSettings,
    RegistryDatabase,
    RegistryLocation,
    open_database,
)
from harness.postgres import PostgresCluster
from protocol.inquiry_code import is_valid_inquiry_code
from protocol.messages import (
    CommitOutcome,
    DocumentKind,
    IneligibleReason,
    RequestKind,
    VoidOutcome,
    VoidReason,
)
from protocol.national_code import NationalCode
from tests.center.sample import (
    ADULT,
    ADULT_TWO,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    DECEASED,
    DISQUALIFIED,
    EIGHTEEN_TODAY,
    EIGHTEEN_TOMORROW,
    ELECTION_DAY,
    SMALL_ROLL,
    UNLISTED,
    VOTER_KEY,
)


def _claim(tx: str, voter: NationalCode, who: Requester = BRANCH_A, *, training: bool = False) -> ReserveClaim:
    return ReserveClaim(tx.ljust(32, "0"), voter, DocumentKind.SMART_CARD, training, who)


def _tx(tx: str) -> str:
    return tx.ljust(32, "0")


def _reserved(registry: Registry, claim: ReserveClaim) -> str:
    result = registry.reserve(claim)
    assert isinstance(result, Reserved), f"expected a reservation, got {result}"
    return result.inquiry_code


def test_the_first_request_reserves_with_a_valid_inquiry_code(registry: Registry) -> None:
    code = _reserved(registry, _claim("a1", ADULT))
    assert is_valid_inquiry_code(code)
    [row] = registry.reservations()
    assert (row.voter, row.state, row.terminal, row.branch) == (
        registry.voter_of(ADULT), ReservationState.RESERVED, BRANCH_A.terminal, BRANCH_A.branch,
    )


def test_the_same_transaction_again_gets_the_same_code(registry: Registry) -> None:
    first = _reserved(registry, _claim("a1", ADULT))
    assert registry.reserve(_claim("a1", ADULT)) == Reserved(first)
    assert len(registry.reservations()) == 1


def test_another_transaction_for_the_voter_is_a_duplicate_naming_the_first_branch(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT, BRANCH_A))
    result = registry.reserve(_claim("b1", ADULT, BRANCH_B))
    assert isinstance(result, Duplicate)
    assert result.first_branch == BRANCH_A.branch
    assert result.first_at.tzinfo is not None


def test_a_duplicate_of_an_issued_vote_gives_the_time_of_issue(registry_database: RegistryDatabase) -> None:
    ticks = iter(datetime(2026, 6, 12, 8, minute, tzinfo=UTC) for minute in range(60))
    registry = Registry(registry_database.session(), ELECTION_DAY, clock=lambda: next(ticks), voter_key=VOTER_KEY)
    try:
        code = _reserved(registry, _claim("a1", ADULT, BRANCH_A))
        assert isinstance(registry.reserve(_claim("b1", ADULT, BRANCH_B)), Duplicate)
        registry.commit(_tx("a1"), BRANCH_A, code, 0)
        assert registry.reserve(_claim("b2", ADULT, BRANCH_B)) == Duplicate(
            BRANCH_A.branch, datetime(2026, 6, 12, 8, 2, tzinfo=UTC)
        )
    finally:
        registry.close()


def test_inquiry_codes_of_different_voters_differ(registry: Registry) -> None:
    assert _reserved(registry, _claim("a1", ADULT)) != _reserved(registry, _claim("a2", ADULT_TWO))


@pytest.mark.parametrize(
    ("voter", "reason"),
    [
        (DECEASED, IneligibleReason.DECEASED),
        (DISQUALIFIED, IneligibleReason.DISQUALIFIED),
        (EIGHTEEN_TOMORROW, IneligibleReason.UNDER_AGE),
        (UNLISTED, IneligibleReason.NOT_ON_ROLL),
    ],
)
def test_ineligible_voters_are_refused_and_nothing_is_reserved(
    registry: Registry, voter: NationalCode, reason: IneligibleReason
) -> None:
    assert registry.reserve(_claim("a1", voter)) == Ineligible(reason)
    assert registry.reservations() == []


def test_a_voter_who_turns_eighteen_on_election_day_may_vote(registry: Registry) -> None:
    _reserved(registry, _claim("a1", EIGHTEEN_TODAY))


def test_a_voided_reservation_frees_the_voter(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT, BRANCH_A))
    assert registry.void(_tx("a1"), BRANCH_A, VoidReason.PRINT_FAILED) is VoidOutcome.VOIDED
    _reserved(registry, _claim("b1", ADULT, BRANCH_B))


def test_a_voided_transaction_cannot_reserve_again(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT))
    registry.void(_tx("a1"), BRANCH_A, VoidReason.OPERATOR_CANCELLED)
    assert registry.reserve(_claim("a1", ADULT)) == AlreadyVoided()


def test_void_is_idempotent(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT))
    for _ in range(3):
        assert registry.void(_tx("a1"), BRANCH_A, VoidReason.NO_ANSWER) is VoidOutcome.VOIDED
    assert [r.state for r in registry.reservations()] == [ReservationState.VOIDED]


def test_a_void_that_overtakes_its_reserve_stops_the_late_reserve(registry: Registry) -> None:
    assert registry.void(_tx("a1"), BRANCH_A, VoidReason.NO_ANSWER) is VoidOutcome.VOIDED
    assert registry.reserve(_claim("a1", ADULT)) == AlreadyVoided()
    _reserved(registry, _claim("a2", ADULT))


def test_commit_is_idempotent_and_keeps_the_highest_reprint_count(registry: Registry) -> None:
    code = _reserved(registry, _claim("a1", ADULT))
    assert registry.commit(_tx("a1"), BRANCH_A, code, 0) is CommitOutcome.COMMITTED
    assert registry.commit(_tx("a1"), BRANCH_A, code, 2) is CommitOutcome.COMMITTED
    assert registry.commit(_tx("a1"), BRANCH_A, code, 1) is CommitOutcome.COMMITTED
    [row] = registry.reservations()
    assert (row.state, row.reprints) == (ReservationState.COMMITTED, 2)


def test_a_committed_voter_stays_taken_and_cannot_be_voided(registry: Registry) -> None:
    code = _reserved(registry, _claim("a1", ADULT))
    registry.commit(_tx("a1"), BRANCH_A, code, 0)
    assert registry.void(_tx("a1"), BRANCH_A, VoidReason.VOTER_LEFT) is VoidOutcome.ALREADY_COMMITTED
    assert isinstance(registry.reserve(_claim("b1", ADULT, BRANCH_B)), Duplicate)
    assert registry.reserve(_claim("a1", ADULT)) == Reserved(code)


@pytest.mark.parametrize("case", ["unknown tx", "wrong code", "other terminal", "voided"])
def test_commit_of_anything_but_a_live_reservation_is_not_reserved(registry: Registry, case: str) -> None:
    code = _reserved(registry, _claim("a1", ADULT))
    other_code = _reserved(registry, _claim("a2", ADULT_TWO))
    if case == "voided":
        registry.void(_tx("a1"), BRANCH_A, VoidReason.PRINT_FAILED)
    tx, who, slip_code = {
        "unknown tx": (_tx("a9"), BRANCH_A, code),
        "wrong code": (_tx("a1"), BRANCH_A, other_code),
        "other terminal": (_tx("a1"), BRANCH_A_SECOND, code),
        "voided": (_tx("a1"), BRANCH_A, code),
    }[case]
    before = registry.reservations()
    assert registry.commit(tx, who, slip_code, 0) is CommitOutcome.NOT_RESERVED
    assert registry.reservations() == before


def test_another_terminal_cannot_void_or_take_over_a_transaction(registry: Registry) -> None:
    code = _reserved(registry, _claim("a1", ADULT, BRANCH_A))
    before = registry.reservations()
    assert registry.void(_tx("a1"), BRANCH_B, VoidReason.VOTER_LEFT) == Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
    assert registry.reserve(_claim("a1", ADULT, BRANCH_B)) == Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
    assert registry.reservations() == before
    assert registry.reserve(_claim("a1", ADULT, BRANCH_A)) == Reserved(code)


NAMESAKE = Requester(BRANCH_A.terminal, BRANCH_A.branch, "d-elsewhere")
"""BRANCH_A's terminal and branch names in another district: names are unique only within a district."""


def test_a_same_named_terminal_of_another_district_cannot_commit_void_or_take_over_a_transaction(
    registry: Registry,
) -> None:
    code = _reserved(registry, _claim("a1", ADULT, BRANCH_A))
    before = registry.reservations()
    assert registry.commit(_tx("a1"), NAMESAKE, code, 0) is CommitOutcome.NOT_RESERVED, \
        "another district's terminal of the same name committed the transaction"
    assert registry.void(_tx("a1"), NAMESAKE, VoidReason.VOTER_LEFT) == Refused(RefusalReason.TX_OF_OTHER_TERMINAL), \
        "another district's terminal of the same name voided the transaction"
    assert registry.reserve(_claim("a1", ADULT, NAMESAKE)) == Refused(RefusalReason.TX_OF_OTHER_TERMINAL), \
        "another district's terminal of the same name was handed the transaction's inquiry code"
    assert registry.reservations() == before
    assert registry.commit(_tx("a1"), BRANCH_A, code, 0) is CommitOutcome.COMMITTED
    assert registry.void(_tx("a1"), BRANCH_A, VoidReason.VOTER_LEFT) is VoidOutcome.ALREADY_COMMITTED
    assert registry.void(_tx("a2"), NAMESAKE, VoidReason.NO_ANSWER) is VoidOutcome.VOIDED, "its own tombstone"
    assert {(r.tx_id, r.district) for r in registry.reservations()} == {
        (_tx("a1"), BRANCH_A.district), (_tx("a2"), NAMESAKE.district)}


def test_the_poll_reports_of_same_named_terminals_of_two_districts_are_apart(registry: Registry) -> None:
    registry.record_poll_event(_tx("o1"), BRANCH_A, RequestKind.OPEN, '{"at": "here"}')
    registry.record_poll_event(_tx("o2"), NAMESAKE, RequestKind.OPEN, '{"at": "elsewhere"}')
    assert registry.poll_events(BRANCH_A.district, BRANCH_A.terminal) == [(RequestKind.OPEN, '{"at": "here"}')]
    assert registry.poll_events(NAMESAKE.district, NAMESAKE.terminal) == [(RequestKind.OPEN, '{"at": "elsewhere"}')]


def test_a_transaction_id_reused_for_another_voter_is_refused(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT))
    assert registry.reserve(_claim("a1", ADULT_TWO)) == Refused(RefusalReason.TX_OF_OTHER_VOTER)
    _reserved(registry, _claim("a2", ADULT_TWO))


def test_training_reservations_do_not_take_the_real_voter(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT, training=True))
    assert isinstance(registry.reserve(_claim("a2", ADULT, training=True)), Duplicate)
    _reserved(registry, _claim("a3", ADULT))


def test_reservations_survive_reopening(registry_database: RegistryDatabase) -> None:
    first = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    code = _reserved(first, _claim("a1", ADULT))
    first.close()
    again = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        assert again.reserve(_claim("a1", ADULT)) == Reserved(code)
    finally:
        again.close()


def test_a_roll_repeating_a_registered_voter_loads_nothing(registry: Registry) -> None:
    result = registry.load_roll([*SMALL_ROLL[:1]])
    assert isinstance(result, RollRefused)
    assert [p.kind for p in result.problems] == [RollProblemKind.REPEATED_NATIONAL_CODE]
    assert registry.voter(ADULT) == SMALL_ROLL[0]


def _with_pool_for(location: RegistryLocation, threads: int) -> RegistryLocation:
    """The same registry, with a pool that gives each thread a connection of its own."""
    return replace(location, pool_size=threads + 1) if isinstance(location, PostgresSettings) else location


def test_concurrent_reserves_of_one_voter_give_exactly_one_code(registry_location: RegistryLocation) -> None:
    terminals = 16
    results: list[object] = [None] * terminals
    start = threading.Barrier(terminals)
    database = open_database(_with_pool_for(registry_location, terminals))

    def terminal(index: int) -> None:
        registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
        try:
            who = Requester(f"t-{index}", f"branch-{index}", "d-test")
            start.wait()
            results[index] = registry.reserve(_claim(f"{index:02x}", ADULT, who))
        finally:
            registry.close()

    threads = [threading.Thread(target=terminal, args=(i,)) for i in range(terminals)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, Reserved)]
    duplicates = [r for r in results if isinstance(r, Duplicate)]
    assert (len(winners), len(duplicates)) == (1, terminals - 1), results
    check = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        [row] = check.reservations()
        assert row.inquiry_code == winners[0].inquiry_code
        assert {d.first_branch for d in duplicates} == {row.branch}
    finally:
        check.close()
        database.close()


def test_the_same_transaction_retried_concurrently_gets_one_code(registry_location: RegistryLocation) -> None:
    tries = 16
    results: list[object] = [None] * tries
    start = threading.Barrier(tries)
    database = open_database(_with_pool_for(registry_location, tries))

    def retry(index: int) -> None:
        registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
        try:
            start.wait()
            results[index] = registry.reserve(_claim("c1", ADULT, BRANCH_A))
        finally:
            registry.close()

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        [row] = check.reservations()
    finally:
        check.close()
        database.close()
    assert results == [Reserved(row.inquiry_code or "")] * tries, results


def test_a_retry_of_a_voided_transaction_while_another_holds_the_voter_is_a_duplicate(registry: Registry) -> None:
    _reserved(registry, _claim("a1", ADULT, BRANCH_A))
    registry.void(_tx("a1"), BRANCH_A, VoidReason.VOTER_LEFT)
    _reserved(registry, _claim("b1", ADULT, BRANCH_B))
    assert registry.reserve(_claim("a1", ADULT, BRANCH_A)) == Duplicate(BRANCH_B.branch, _held_since(registry))


def _held_since(registry: Registry) -> datetime:
    again = registry.reserve(_claim("c9", ADULT, BRANCH_A_SECOND))
    assert isinstance(again, Duplicate), again
    return again.first_at


def test_the_registry_file_holds_no_national_code_in_clear(registry_path: Path) -> None:
    registry = Registry(registry_path, ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        assert isinstance(registry.reserve(_claim("z1", ADULT)), Reserved)
        assert registry.voter(ADULT) is not None, "voters are still found by their code"
    finally:
        registry.close()
    stored = b"".join(p.read_bytes() for p in registry_path.parent.glob(registry_path.name + "*"))
    assert stored, "nothing was written"
    for record in SMALL_ROLL:
        assert record.national_code.digits.encode() not in stored


_STEP_ONE_ANSWER_TABLES = """
CREATE TABLE answered_requests (request_id TEXT PRIMARY KEY, terminal TEXT NOT NULL, request_digest TEXT NOT NULL,
                                answer BLOB NOT NULL, at TEXT NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE answered_per_terminal (terminal TEXT PRIMARY KEY, answered INTEGER NOT NULL) WITHOUT ROWID;
"""
_OLDER_ANSWER_TABLES = """
CREATE TABLE answered_requests (request_id TEXT PRIMARY KEY, terminal TEXT NOT NULL, request_digest TEXT NOT NULL,
                                answer BLOB NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE answered_per_terminal (terminal TEXT PRIMARY KEY, answered INTEGER NOT NULL) WITHOUT ROWID;
"""


@pytest.mark.parametrize(("tables", "missing"), [
    (_STEP_ONE_ANSWER_TABLES, "answered_requests.district, answered_per_terminal.district"),
    (_OLDER_ANSWER_TABLES, "answered_requests.district, answered_requests.seq, answered_per_terminal.district"),
])
def test_a_registry_file_of_an_older_version_is_refused_naming_its_missing_columns(
    tmp_path: Path, tables: str, missing: str
) -> None:
    path = tmp_path / "old.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.executescript(tables)
    with pytest.raises(OutdatedRegistryError, match=re.escape(f"lacks the columns {missing};")) as refused:
        Registry(path, ELECTION_DAY, voter_key=VOTER_KEY)
    assert str(path) in str(refused.value)
    with contextlib.closing(sqlite3.connect(path)) as old:
        made = {name for (name,) in old.execute("SELECT name FROM sqlite_master")}
    assert not {"answers_of_district_terminal", "poll_events_of_district_terminal"} & made, \
        "indexes were made on a refused file"


@pytest.mark.real_peer
def test_a_postgresql_registry_of_an_older_version_is_refused_naming_its_missing_columns(
    postgres: PostgresCluster,
) -> None:
    dsn = postgres.fresh_schema()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE answered_per_terminal (terminal text PRIMARY KEY, answered bigint NOT NULL)")
    with pytest.raises(OutdatedRegistryError, match=re.escape("lacks the columns answered_per_terminal.district;")):
        open_database(PostgresSettings(dsn, pool_size=1))
