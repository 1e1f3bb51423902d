"""The "already voted" snapshot's tags in the registry, on both engines: each committed voter's tag of the day,
computed at reserve while the national code is in hand, and nothing of a slip not committed, voided or training."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.storage import RegistryDatabase
from center.voted_snapshot import build_chunks, snapshot_key
from protocol.messages import CommitOutcome, DocumentKind, VoidReason
from protocol.national_code import NationalCode
from protocol.voted_snapshot import ChunkKind, SnapshotChunk, SnapshotState, receive, voter_tag64
from tests.center.offline_sample import permit_sample, signed
from tests.center.sample import (
    ADULT,
    ADULT_TWO,
    BRANCH_A,
    DISQUALIFIED,
    EIGHTEEN_TODAY,
    ELECTION_DAY,
    UNLISTED,
    VOTER_KEY,
)
from tests.center.test_registry_offline import Clock

START = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
OTHER_DISTRICT = Requester("t-x1", "branch-x", "d-other")


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def registry(registry_database: RegistryDatabase, clock: Clock) -> Iterator[Registry]:
    own = Registry(registry_database.session(), ELECTION_DAY, clock=clock, voter_key=VOTER_KEY)
    yield own
    own.close()


def _tag(code: NationalCode) -> int:
    return voter_tag64(snapshot_key(VOTER_KEY, ELECTION_DAY), code) & ~1


def _issue(registry: Registry, tx_id: str, code: NationalCode, requester: Requester = BRANCH_A, *,
           training: bool = False, commit: bool = True) -> str:
    reserved = registry.reserve(ReserveClaim(tx_id, code, DocumentKind.SMART_CARD, training, requester))
    assert isinstance(reserved, Reserved), reserved
    if commit:
        assert registry.commit(tx_id, requester, reserved.inquiry_code, 0) is CommitOutcome.COMMITTED
    return reserved.inquiry_code


def _tags(registry: Registry, district: str | None = None, after: datetime | None = None,
          until: datetime | None = None) -> set[int]:
    return {int(tag) for tag in registry.snapshot_tags(district, after, until or START + timedelta(days=1))}


def test_a_committed_slip_gives_its_voters_tag_and_nothing_else_does(registry: Registry) -> None:
    _issue(registry, "a" * 32, ADULT)
    _issue(registry, "b" * 32, ADULT_TWO, commit=False)
    _issue(registry, "c" * 32, EIGHTEEN_TODAY, training=True)
    assert _tags(registry) == {_tag(ADULT)}, "only the committed, real slip is in the snapshot"


def test_a_voided_reservation_gives_no_tag_and_refused_voters_none(registry: Registry) -> None:
    _issue(registry, "a" * 32, ADULT, commit=False)
    assert registry.void("a" * 32, BRANCH_A, VoidReason.PRINT_FAILED) is not None
    assert not isinstance(registry.reserve(ReserveClaim("d" * 32, DISQUALIFIED, DocumentKind.SMART_CARD, False,
                                                        BRANCH_A)), Reserved)
    assert not isinstance(registry.reserve(ReserveClaim("e" * 32, UNLISTED, DocumentKind.SMART_CARD, False,
                                                        BRANCH_A)), Reserved)
    assert _tags(registry) == set()


def test_the_window_is_after_exclusive_until_inclusive_by_commit_time(registry: Registry, clock: Clock) -> None:
    _issue(registry, "a" * 32, ADULT)
    clock.now = START + timedelta(minutes=15)
    _issue(registry, "b" * 32, ADULT_TWO)
    assert _tags(registry, until=START) == {_tag(ADULT)}
    assert _tags(registry, after=START, until=START + timedelta(minutes=15)) == {_tag(ADULT_TWO)}
    assert _tags(registry, after=START + timedelta(minutes=15)) == set()
    assert _tags(registry, until=START - timedelta(seconds=1)) == set()


def test_a_district_scope_keeps_that_districts_slips_and_the_nation_all(registry: Registry) -> None:
    _issue(registry, "a" * 32, ADULT)
    _issue(registry, "b" * 32, ADULT_TWO, OTHER_DISTRICT)
    assert _tags(registry, BRANCH_A.district) == {_tag(ADULT)}
    assert _tags(registry, OTHER_DISTRICT.district) == {_tag(ADULT_TWO)}
    assert _tags(registry) == {_tag(ADULT), _tag(ADULT_TWO)}


def test_a_reconciled_offline_slip_gives_its_voters_tag(registry: Registry, clock: Clock) -> None:
    sample = permit_sample()
    issue = sample.issue(BRANCH_A, 1, ADULT)
    clock.now = issue.issued_at + timedelta(hours=1)
    with registry.transaction():
        registry.reconcile_offline(issue, ADULT, signed(issue), ())
    assert _tags(registry, until=clock.now) == {_tag(ADULT)}


def test_the_registrys_tags_make_a_snapshot_that_holds_the_voter_and_not_a_stranger(registry: Registry) -> None:
    _issue(registry, "a" * 32, ADULT)
    tags = registry.snapshot_tags(None, None, START)
    state = SnapshotState("nation")
    for manifest, body in build_chunks(tags, scope="nation", chunk_kind=ChunkKind.FULL, version=1, tag_bits=32,
                                       committed_until=START, issued_at=START):
        taken = receive(state, SnapshotChunk(manifest, body))
        assert isinstance(taken, SnapshotState)
        state = taken
    key = snapshot_key(VOTER_KEY, ELECTION_DAY)
    assert state.may_have_voted(voter_tag64(key, ADULT)) is True
    assert state.may_have_voted(voter_tag64(key, ADULT_TWO)) is False
    other_day = snapshot_key(VOTER_KEY, ELECTION_DAY + timedelta(days=1))
    assert voter_tag64(other_day, ADULT) != voter_tag64(key, ADULT), "the tag is a day's"
