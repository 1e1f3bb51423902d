"""Reconciliation of OFFLINE slips: issued or a double vote naming both slips, idempotent on (permit, offline
code), never dropped; a record that strays from its permit is flagged."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import verhoeff

from center.reconcile import (
    OtherSlip,
    PermitFault,
    ReconcileOutcome,
    ReconcileRecord,
    RegistryAnswer,
    Replayed,
    VoterFree,
    VoterHeldElsewhere,
    VoterIneligible,
    offline_tx_id,
    permit_faults,
    reconcile,
    replay_of,
)
from harness.fuzz.offline import AT, OfflineWorld, offline_issue, offline_world
from protocol.messages import IneligibleReason
from protocol.national_code import NationalCode, complete_national_code
from protocol.offline_code import OfflineIssue

WORLD = offline_world(max_slips=50)
VOTER = NationalCode(complete_national_code("001234567"))
ONLINE = OtherSlip("D02", "B-0202", "T-0202", AT + timedelta(minutes=20), True, inquiry_code="123456789")


def _replayed(issue: OfflineIssue, voter: str = "v" * 64) -> Replayed:
    return Replayed(issue, voter, hashlib.sha256(repr(issue).encode()).hexdigest())


def test_a_free_voter_is_issued() -> None:
    decision = reconcile(_replayed(offline_issue(WORLD, 1, VOTER)), VoterFree(), ())
    assert decision.new and decision.record.outcome is ReconcileOutcome.ISSUED and decision.record.other is None


def test_a_voter_held_elsewhere_is_a_double_vote_naming_both_slips_and_the_permit() -> None:
    issue = offline_issue(WORLD, 2, VOTER)
    record = reconcile(_replayed(issue), VoterHeldElsewhere(ONLINE), ()).record
    assert record.outcome is ReconcileOutcome.DOUBLE_VOTE
    assert (record.permit_id, record.offline_code, record.branch, record.terminal, record.issued_at) == \
        (issue.permit_id, issue.offline_code, "B-0101", "T-0101", issue.issued_at)
    assert record.other == ONLINE and record.first_at() == min(issue.issued_at, ONLINE.at)


def test_an_ineligible_voter_is_recorded_with_the_reason() -> None:
    record = reconcile(_replayed(offline_issue(WORLD, 3, VOTER)), VoterIneligible(IneligibleReason.DECEASED),
                       ()).record
    assert record.outcome is ReconcileOutcome.INELIGIBLE and record.ineligible is IneligibleReason.DECEASED


def test_the_same_record_again_is_answered_as_before_and_another_under_its_key_is_a_conflict() -> None:
    replayed = _replayed(offline_issue(WORLD, 4, VOTER))
    first = reconcile(replayed, VoterFree(), ()).record
    assert replay_of(replayed, None) is None
    again = replay_of(replayed, first)
    assert again is not None and not again.new and again.record == first
    forged = dataclasses.replace(replayed, digest="0" * 64)
    conflict = replay_of(forged, first)
    assert conflict is not None and conflict.new and conflict.record.outcome is ReconcileOutcome.CONFLICT


def test_the_transaction_of_an_offline_slip_is_fixed_by_its_permit_and_code() -> None:
    one, two = offline_issue(WORLD, 5, VOTER), offline_issue(WORLD, 6, VOTER)
    assert offline_tx_id(one) == offline_tx_id(dataclasses.replace(one, issued_at=AT))
    assert offline_tx_id(one) != offline_tx_id(two) and len(offline_tx_id(one)) == 32
    assert int(offline_tx_id(one), 16) >= 0


def test_a_record_within_its_permit_has_no_fault() -> None:
    assert permit_faults(offline_issue(WORLD, 7, VOTER), WORLD.issued.permit, WORLD.issued.secrets, None) == ()


def _forged(issue: OfflineIssue) -> OfflineIssue:
    body = issue.offline_code[:6] + f"{(int(issue.offline_code[6:10]) + 1) % 10_000:04d}"
    return dataclasses.replace(issue, offline_code=body + verhoeff.calc_check_digit(body))


def test_a_record_straying_from_its_permit_is_flagged_not_dropped() -> None:
    permit, secrets = WORLD.issued.permit, WORLD.issued.secrets
    issue = offline_issue(WORLD, 8, VOTER)
    assert permit_faults(issue, None, None, None) == (PermitFault.UNKNOWN_PERMIT,)
    assert PermitFault.AFTER_WINDOW in permit_faults(dataclasses.replace(issue, issued_at=permit.not_after),
                                                     permit, secrets, None)
    assert PermitFault.BEFORE_WINDOW in permit_faults(dataclasses.replace(issue, issued_at=AT - timedelta(1)),
                                                      permit, secrets, None)
    assert permit_faults(issue, permit, secrets, issue.issued_at) == (PermitFault.AFTER_END,)
    assert permit_faults(_forged(issue), permit, secrets, None) == (PermitFault.FORGED_CODE,)
    assert PermitFault.FOREIGN_TERMINAL in permit_faults(dataclasses.replace(issue, terminal="T-0199"), permit,
                                                         secrets, None)
    over = offline_world(max_slips=2)
    faults = permit_faults(offline_issue(over, 3, VOTER), over.issued.permit, over.issued.secrets, None)
    assert faults == (PermitFault.OVER_LIMIT,)
    record = reconcile(_replayed(_forged(issue)), VoterFree(), (PermitFault.FORGED_CODE,)).record
    assert record.outcome is ReconcileOutcome.ISSUED and record.faults == (PermitFault.FORGED_CODE,)


def _model_registry(world: OfflineWorld, replays: list[Replayed]) -> dict[tuple[str, str], list[ReconcileRecord]]:
    """The wiring in miniature: records kept by (permit, code), voters held by the first slip to reach them."""
    kept: dict[tuple[str, str], list[ReconcileRecord]] = {}
    holders: dict[str, OtherSlip] = {"online-voter": ONLINE}
    for replayed in replays:
        issue = replayed.issue
        key = (issue.permit_id, issue.offline_code)
        earlier = kept.get(key, [None])[0]
        decision = replay_of(replayed, earlier)
        if decision is None:
            held = holders.get(replayed.voter)
            answer: RegistryAnswer = VoterFree() if held is None else VoterHeldElsewhere(held)
            holders.setdefault(replayed.voter, OtherSlip(issue.district, issue.branch, issue.terminal,
                                                         issue.issued_at, True, permit_id=issue.permit_id,
                                                         offline_code=issue.offline_code))
            decision = reconcile(replayed, answer, permit_faults(issue, world.issued.permit, world.issued.secrets,
                                                                 None))
        if decision.new:
            kept.setdefault(key, []).append(decision.record)
    return kept


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "online-voter"]), min_size=1, max_size=12), st.randoms())
def test_replays_in_any_order_and_any_number_keep_one_record_per_slip_and_find_every_double_vote(
        voters: list[str], rng: random.Random) -> None:
    slips = [_replayed(offline_issue(WORLD, n + 1, VOTER, AT + timedelta(minutes=n)), voter)
             for n, voter in enumerate(voters)]
    replays = slips + [rng.choice(slips) for _ in range(len(slips))]
    rng.shuffle(replays)
    kept = _model_registry(WORLD, replays)
    assert len(kept) == len(slips) and all(len(records) == 1 for records in kept.values())
    outcomes = [records[0].outcome for records in kept.values()]
    slips_per_voter = {voter: voters.count(voter) + (voter == "online-voter") for voter in set(voters)}
    assert outcomes.count(ReconcileOutcome.ISSUED) == sum(1 for voter in slips_per_voter if voter != "online-voter")
    assert outcomes.count(ReconcileOutcome.DOUBLE_VOTE) == sum(count - 1 for count in slips_per_voter.values())
    for records in kept.values():
        record = records[0]
        if record.outcome is ReconcileOutcome.DOUBLE_VOTE:
            assert record.other is not None and record.other.at is not None and record.permit_id
