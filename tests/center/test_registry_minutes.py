"""The registry's part of the minutes, on both engines: the branch's committed slips, and minutes kept idempotently,
a second different set kept beside the first as a conflict, training minutes apart, a flood bounded."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from center.registry import MINUTES_KEPT, MinutesReceipt, Registry, Requester, ReserveClaim, Reserved
from center.storage import PostgresSettings, RegistryLocation, open_database
from protocol.codec import decode_minutes, minutes_hash
from protocol.messages import DocumentKind, MinutesOutcome, RequestKind
from protocol.minutes import Minutes
from protocol.national_code import NationalCode
from tests.center.minutes_sample import counted, minutes
from tests.center.sample import (
    ADULT,
    ADULT_TWO,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    EIGHTEEN_TODAY,
    ELECTION_DAY,
    VOTER_KEY,
)

RECORDED, CONFLICT = MinutesOutcome.RECORDED, MinutesOutcome.CONFLICT


def _tx(name: str) -> str:
    return name.ljust(32, "0")


def _record(registry: Registry, sent: Minutes, who: Requester = BRANCH_A, tx: str = "m1",
            request: bytes = b"signed request") -> MinutesReceipt | None:
    with registry.transaction():
        return registry.record_minutes(_tx(tx), who, sent, request)


def _outcome(registry: Registry, sent: Minutes, who: Requester = BRANCH_A, tx: str = "m1") -> MinutesOutcome:
    receipt = _record(registry, sent, who, tx)
    assert receipt is not None, "the minutes were refused"
    return receipt.outcome


def _reserve(registry: Registry, tx: str, voter: NationalCode, who: Requester, *, training: bool = False) -> str:
    reserved = registry.reserve(ReserveClaim(_tx(tx), voter, DocumentKind.SMART_CARD, training, who))
    assert isinstance(reserved, Reserved), reserved
    return reserved.inquiry_code


def _commit(registry: Registry, tx: str, voter: NationalCode, who: Requester, *, training: bool = False) -> None:
    registry.commit(_tx(tx), who, _reserve(registry, tx, voter, who, training=training), 0)


def test_the_committed_count_is_the_whole_branchs_without_training_or_open_reservations(registry: Registry) -> None:
    _commit(registry, "a1", ADULT, BRANCH_A)
    _commit(registry, "a2", ADULT_TWO, BRANCH_A_SECOND)
    _commit(registry, "t1", ADULT, BRANCH_A, training=True)
    _commit(registry, "b1", EIGHTEEN_TODAY, BRANCH_B)
    _reserve(registry, "t2", ADULT_TWO, BRANCH_A, training=True)
    assert registry.committed_count(BRANCH_A.district, BRANCH_A.branch) == 2, "both terminals, no training, no open"
    assert registry.committed_count(BRANCH_B.district, BRANCH_B.branch) == 1
    assert registry.committed_count("d-other", BRANCH_A.branch) == 0


def test_minutes_are_kept_once_with_their_request_and_read_back_alike(registry: Registry) -> None:
    sent = minutes()
    assert _record(registry, sent, request=b"jws-1") == MinutesReceipt(RECORDED, minutes_hash(sent))
    assert _record(registry, sent, request=b"jws-2") == MinutesReceipt(RECORDED, minutes_hash(sent))
    assert _record(registry, sent, tx="m2", request=b"jws-3") == MinutesReceipt(RECORDED, minutes_hash(sent))
    [row] = registry.minutes_of(BRANCH_A.district)
    assert (row.requester, row.tx_id, row.minutes_hash, row.request) == (BRANCH_A, _tx("m1"), minutes_hash(sent),
                                                                           b"jws-1")
    assert decode_minutes(row.minutes.encode()) == sent
    assert row.received_at.tzinfo is not None and not row.training


def test_other_minutes_for_the_branch_are_a_conflict_kept_beside_the_first_whatever_comes_again(
        registry: Registry) -> None:
    first, second = minutes(counted((200, 150, 40))), minutes(counted((150, 200, 40)))
    assert _outcome(registry, first) is RECORDED
    assert _outcome(registry, second, tx="m2") is CONFLICT
    assert _outcome(registry, first, tx="m3") is RECORDED, "the first stays the branch's first"
    assert _outcome(registry, second, BRANCH_A_SECOND, tx="m4") is CONFLICT
    kept = [(row.requester.terminal, row.minutes_hash) for row in registry.minutes_of(BRANCH_A.district)]
    assert kept == [(BRANCH_A.terminal, minutes_hash(first)), (BRANCH_A.terminal, minutes_hash(second)),
                    (BRANCH_A_SECOND.terminal, minutes_hash(second))]


def test_the_same_minutes_from_a_second_terminal_of_the_branch_are_no_conflict(registry: Registry) -> None:
    sent = minutes()
    assert _outcome(registry, sent) is RECORDED
    assert _outcome(registry, sent, BRANCH_A_SECOND, tx="m2") is RECORDED
    assert _outcome(registry, minutes(counted((1, 2, 3))), BRANCH_B, tx="m3") is RECORDED


def test_training_minutes_are_kept_apart_and_never_meet_the_days(registry: Registry) -> None:
    day, training = minutes(), minutes(counted((1, 2, 3)), training=True)
    assert _outcome(registry, training) is RECORDED
    assert _outcome(registry, day, tx="m2") is RECORDED, "a training set is no conflict"
    assert [row.minutes_hash for row in registry.minutes_of(BRANCH_A.district)] == [minutes_hash(day)]
    assert [row.minutes_hash for row in registry.minutes_of(BRANCH_A.district, training=True)] == [
        minutes_hash(training)]


def test_minutes_before_the_terminals_closing_report_are_marked(registry: Registry) -> None:
    early = minutes()
    _record(registry, early)
    registry.record_poll_event(_tx("c1"), BRANCH_A, RequestKind.CLOSE, '{"counts": {"issued": 400}}')
    _record(registry, minutes(counted((1, 2, 3))), tx="m2")
    assert [row.before_closing for row in registry.minutes_of(BRANCH_A.district)] == [True, False]


def test_a_terminal_that_floods_the_branch_with_minutes_is_refused_past_the_bound(registry: Registry) -> None:
    for n in range(MINUTES_KEPT):
        assert _record(registry, minutes(counted((n, 0, 0))), tx=f"m{n:02x}") is not None
    assert _record(registry, minutes(counted((999, 0, 0))), tx="mff") is None
    assert len(registry.minutes_of(BRANCH_A.district)) == MINUTES_KEPT
    assert _record(registry, minutes(counted((0, 0, 0))), tx="m00") is not None, "a set already kept still answers"


def test_two_sessions_recording_different_minutes_at_once_make_one_first(registry_location: RegistryLocation) -> None:
    sessions = 6
    location = (replace(registry_location, pool_size=sessions + 1) if isinstance(registry_location, PostgresSettings)
                else registry_location)
    database = open_database(location)
    start = threading.Barrier(sessions)
    outcomes: list[MinutesOutcome | None] = [None] * sessions

    def send(index: int) -> None:
        registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY,
                            clock=lambda: datetime.now(UTC))
        try:
            sent = minutes(counted((index, 10, 10)))
            start.wait()
            receipt = _record(registry, sent, tx=f"m{index}")
            outcomes[index] = receipt.outcome if receipt is not None else None
        finally:
            registry.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert Counter(outcomes) == Counter({RECORDED: 1, CONFLICT: sessions - 1}), outcomes
    finally:
        database.close()
