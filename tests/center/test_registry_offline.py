"""Replayed OFFLINE slips in the registry, on both engines: issued and committed under the slip's own transaction, a
double vote recorded naming both slips, idempotent on (permit, offline code), conflicts kept beside, nothing
dropped."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from center.reconcile import Decision, PermitFault, ReconcileOutcome, offline_tx_id
from center.registry import (
    IN_FLIGHT,
    Duplicate,
    Registry,
    ReservationState,
    ReserveClaim,
    Reserved,
    VoterInFlight,
)
from center.storage import RegistryDatabase
from protocol.messages import DocumentKind, IneligibleReason, VoidReason
from protocol.national_code import NationalCode
from protocol.offline_code import OfflineIssue
from tests.center.offline_sample import OUTAGE, permit_sample, signed
from tests.center.sample import (
    ADULT,
    ADULT_TWO,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    DECEASED,
    ELECTION_DAY,
    UNLISTED,
    VOTER_KEY,
)

SAMPLE = permit_sample()
OTHER_BRANCH = permit_sample(branch=BRANCH_B.branch, terminals=(BRANCH_B,))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(OUTAGE + timedelta(hours=2))


@pytest.fixture
def registry(registry_database: RegistryDatabase, clock: Clock) -> Iterator[Registry]:
    own = Registry(registry_database.session(), ELECTION_DAY, clock=clock, voter_key=VOTER_KEY)
    yield own
    own.close()


def _replay(registry: Registry, issue: OfflineIssue, voter: NationalCode, *, record: bytes | None = None,
            faults: tuple[PermitFault, ...] = ()) -> Decision | VoterInFlight:
    with registry.transaction():
        return registry.reconcile_offline(issue, voter, record or signed(issue), faults)


def _decided(registry: Registry, issue: OfflineIssue, voter: NationalCode, **kwargs: object) -> Decision:
    decision = _replay(registry, issue, voter, **kwargs)  # type: ignore[arg-type]
    assert isinstance(decision, Decision), f"expected a decision, got {decision}"
    return decision


def test_a_free_voter_is_issued_and_committed_under_the_slips_own_transaction(registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    decision = _decided(registry, issue, ADULT)
    assert decision.new and decision.record.outcome is ReconcileOutcome.ISSUED
    assert decision.record.digest == hashlib.sha256(signed(issue)).hexdigest()
    rows = [row for row in registry.reservations() if row.tx_id == offline_tx_id(issue)]
    assert len(rows) == 1 and rows[0].state is ReservationState.COMMITTED
    assert (rows[0].terminal, rows[0].branch, rows[0].voter) == (BRANCH_A.terminal, BRANCH_A.branch,
                                                                 registry.voter_of(ADULT))
    assert registry.committed_count(BRANCH_A.district, BRANCH_A.branch) == 1


def test_after_reconciliation_the_voter_is_a_duplicate_online_with_the_offline_slips_branch_and_time(
        registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    _decided(registry, issue, ADULT)
    again = registry.reserve(ReserveClaim("b" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert again == Duplicate(BRANCH_A.branch, issue.issued_at)


def test_the_same_record_again_changes_nothing_and_gets_the_same_record(registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    first = _decided(registry, issue, ADULT)
    again = _decided(registry, issue, ADULT)
    assert not again.new and again.record == first.record
    assert len(registry.offline_slips_of(BRANCH_A.district)) == 1
    assert sum(row.tx_id == offline_tx_id(issue) for row in registry.reservations()) == 1


def test_other_bytes_under_the_same_permit_and_code_are_a_conflict_kept_beside_the_first(registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    first = _decided(registry, issue, ADULT)
    other = dataclasses.replace(issue, document=DocumentKind.BIRTH_CERTIFICATE)
    conflict = _decided(registry, other, ADULT_TWO)
    assert conflict.new and conflict.record.outcome is ReconcileOutcome.CONFLICT
    assert _decided(registry, other, ADULT_TWO).new is False, "the same conflicting bytes are kept once"
    kept = registry.offline_slips_of(BRANCH_A.district)
    assert [record.outcome for record in kept] == [ReconcileOutcome.ISSUED, ReconcileOutcome.CONFLICT]
    assert kept[0] == first.record
    assert registry.voter_of(ADULT_TWO) not in {row.voter for row in registry.reservations()}, \
        "a conflicting record reserves no one"


def test_a_voter_who_voted_online_first_is_a_double_vote_naming_that_slip(registry: Registry, clock: Clock) -> None:
    online = registry.reserve(ReserveClaim("c" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert isinstance(online, Reserved)
    registry.commit("c" * 32, BRANCH_B, online.inquiry_code, 0)
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    record = _decided(registry, issue, ADULT).record
    assert record.outcome is ReconcileOutcome.DOUBLE_VOTE and record.other is not None
    other = record.other
    assert (other.district, other.branch, other.terminal, other.committed, other.inquiry_code, other.at) == (
        BRANCH_B.district, BRANCH_B.branch, BRANCH_B.terminal, True, online.inquiry_code, clock.now)
    assert (record.permit_id, record.offline_code) == (issue.permit_id, issue.offline_code)
    assert registry.offline_slips_of(BRANCH_A.district) == [record], "the double vote is kept, with both slips"
    assert registry.committed_count(BRANCH_A.district, BRANCH_A.branch) == 0


def test_a_voter_at_two_offline_branches_is_a_double_vote_naming_the_first_permit_and_code(
        registry: Registry) -> None:
    first = SAMPLE.issue(BRANCH_A, 1, ADULT, minutes=5)
    second = OTHER_BRANCH.issue(BRANCH_B, 1, ADULT, minutes=30)
    _decided(registry, first, ADULT)
    record = _decided(registry, second, ADULT).record
    assert record.outcome is ReconcileOutcome.DOUBLE_VOTE and record.other is not None
    assert (record.other.permit_id, record.other.offline_code, record.other.inquiry_code) == (
        first.permit_id, first.offline_code, None)
    assert (record.other.branch, record.other.at, record.permit_id) == (BRANCH_A.branch, first.issued_at,
                                                                        second.permit_id)
    assert record.first_at() == first.issued_at


def test_the_later_slip_replayed_first_still_finds_the_double_vote(registry: Registry) -> None:
    early = SAMPLE.issue(BRANCH_A, 1, ADULT, minutes=5)
    late = OTHER_BRANCH.issue(BRANCH_B, 1, ADULT, minutes=30)
    _decided(registry, late, ADULT)
    record = _decided(registry, early, ADULT).record
    assert record.outcome is ReconcileOutcome.DOUBLE_VOTE and record.other is not None
    assert record.other.offline_code == late.offline_code and record.first_at() == early.issued_at


def test_a_voter_held_by_an_unsettled_reservation_waits_and_an_old_one_is_named_uncommitted(
        registry: Registry, clock: Clock) -> None:
    held = registry.reserve(ReserveClaim("d" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert isinstance(held, Reserved)
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    assert isinstance(_replay(registry, issue, ADULT), VoterInFlight)
    assert registry.offline_slips_of(BRANCH_A.district) == [], "nothing is kept while it waits"
    clock.now += IN_FLIGHT
    record = _decided(registry, issue, ADULT).record
    assert record.outcome is ReconcileOutcome.DOUBLE_VOTE and record.other is not None
    assert record.other.committed is False and record.other.inquiry_code == held.inquiry_code


def test_a_reservation_of_the_replaying_terminal_itself_is_waited_for_at_any_age(registry: Registry,
                                                                                 clock: Clock) -> None:
    held = registry.reserve(ReserveClaim("9" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_A))
    assert isinstance(held, Reserved)
    clock.now += IN_FLIGHT * 30
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    assert isinstance(_replay(registry, issue, ADULT), VoterInFlight), "its void is on its way in the same outbox"
    registry.void("9" * 32, BRANCH_A, VoidReason.NO_ANSWER)
    assert _decided(registry, issue, ADULT).record.outcome is ReconcileOutcome.ISSUED


def test_a_voter_voided_meanwhile_is_issued_to_the_offline_slip(registry: Registry) -> None:
    held = registry.reserve(ReserveClaim("e" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert isinstance(held, Reserved)
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    assert isinstance(_replay(registry, issue, ADULT), VoterInFlight)
    registry.void("e" * 32, BRANCH_B, VoidReason.VOTER_LEFT)
    assert _decided(registry, issue, ADULT).record.outcome is ReconcileOutcome.ISSUED


@pytest.mark.parametrize(("voter", "reason"), [(DECEASED, IneligibleReason.DECEASED),
                                               (UNLISTED, IneligibleReason.NOT_ON_ROLL)])
def test_an_ineligible_voter_is_recorded_with_the_reason_and_reserved_nowhere(
        registry: Registry, voter: NationalCode, reason: IneligibleReason) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, voter)
    record = _decided(registry, issue, voter).record
    assert record.outcome is ReconcileOutcome.INELIGIBLE and record.ineligible is reason
    assert all(row.tx_id != offline_tx_id(issue) for row in registry.reservations())
    assert not _decided(registry, issue, voter).new


def test_permit_faults_are_kept_with_the_record_and_the_voter_stays_taken(registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A_SECOND, 2, ADULT_TWO)
    faults = (PermitFault.AFTER_END, PermitFault.FORGED_CODE)
    record = _decided(registry, issue, ADULT_TWO, faults=faults).record
    assert record.outcome is ReconcileOutcome.ISSUED and record.faults == faults
    assert registry.offline_slips_of(BRANCH_A.district) == [record]
    assert registry.committed_count(BRANCH_A.district, BRANCH_A.branch) == 1


def test_a_failed_transaction_keeps_neither_the_record_nor_the_reservation(registry: Registry) -> None:
    issue = SAMPLE.issue(BRANCH_A, 1, ADULT)
    with pytest.raises(RuntimeError, match="abandoned"), registry.transaction():
        registry.reconcile_offline(issue, ADULT, signed(issue), ())
        raise RuntimeError("abandoned")
    assert registry.offline_slips_of(BRANCH_A.district) == []
    assert all(row.tx_id != offline_tx_id(issue) for row in registry.reservations())
    assert _decided(registry, issue, ADULT).new, "the replay after the failure records it"
