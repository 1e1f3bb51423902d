"""Offline operation in the pure flow: only a permit the district signed, activated by the head of branch's phone
code or the district's broadcast, lets a slip go without the center; the check of the voter, the limit and the
window; the OFFLINE slip journaled before its print and replayed after it; the end; the return to the live check."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow.events import TxStage
from firmware_app.flow.notices import PermitRefused, Say
from firmware_app.flow.offline import offline_now
from firmware_app.flow.permits import HeldPermit
from firmware_app.flow.step import Step, step
from hal.printer import PrintStage
from protocol.messages import CommitOutcome, OfflineOutcome
from protocol.offline_code import offline_code, parse_offline_code
from protocol.permit import MAX_CODE_ATTEMPTS, ActivationPath, PermitActivation, PermitEnd, PermitRefusal

AT = s.AT
PERMIT = s.PERMIT


def day_of(state: st.State) -> st.PollsDay:
    assert not isinstance(state, st.Starting)
    return state.day


def _held(day: st.PollsDay) -> HeldPermit:
    held = offline_now(day) or next(iter(day.permits), None)
    assert held is not None
    return held


def _printed_offline(day: st.PollsDay = s.OFFLINE_DAY, tx_id: str = s.TX) -> Step[st.State]:
    """A voter confirmed with a ready printer, checked clear, while offline: the OFFLINE slip is printing."""
    checking = step(st.CheckingPrinter(tx_id, s.CARD, day=day), ev.PrinterChecked(tx_id, s.READY))
    assert isinstance(checking.state, st.CheckingOffline)
    held = _held(day)
    assert fx.CheckOffline(tx_id, s.CARD, held.permit_id, held.secrets) in checking.effects
    assert not any(isinstance(e, fx.SendReserve) for e in checking.effects), "the center is not asked"
    return step(checking.state, ev.OfflineChecked(tx_id, ev.OfflineVerdict.CLEAR, 7, AT))


# --- no permit, no offline -------------------------------------------------------------------------------------


def test_without_a_permit_a_code_is_refused_and_the_voter_goes_to_the_center() -> None:
    result = step(st.Idle(day=s.DAY), ev.PermitCodeTyped("head", s.PHONE_CODE, AT))
    assert result.refusal is not None and result.effects == (fx.Show(Say.NO_PERMIT),)
    reserving = step(st.CheckingPrinter(s.TX, s.CARD, day=s.DAY), ev.PrinterChecked(s.TX, s.READY))
    assert isinstance(reserving.state, st.Reserving)


def test_a_held_permit_does_nothing_until_it_is_activated() -> None:
    result = step(st.CheckingPrinter(s.TX, s.CARD, day=s.PERMIT_DAY), ev.PrinterChecked(s.TX, s.READY))
    assert isinstance(result.state, st.Reserving)


def test_a_permit_is_kept_once_and_a_foreign_one_never() -> None:
    kept = step(st.Idle(day=s.DAY), ev.PermitReceived(s.HELD, b"signed"))
    assert kept.state == st.Idle(day=s.PERMIT_DAY)
    assert kept.effects == (fx.RecordPermit(PERMIT.permit_id, b"signed"), fx.Show(Say.PERMIT_HELD))
    again = step(kept.state, ev.PermitReceived(s.HELD, b"signed"))
    assert again.refusal == "permit already held" and again.effects == ()
    foreign = step(st.Idle(day=s.DAY), ev.PermitReceived(s.FOREIGN, b"signed"))
    assert foreign.refusal == "permit refused: foreign_branch" and foreign.state == st.Idle(day=s.DAY)


# --- activation ------------------------------------------------------------------------------------------------


def test_the_right_phone_code_activates_and_is_journaled_and_alarmed() -> None:
    result = step(st.Idle(day=s.PERMIT_DAY), ev.PermitCodeTyped("head", s.PHONE_CODE, AT))
    held = offline_now(day_of(result.state)) if isinstance(result.state, st.Idle) else None
    assert held is not None and held.ledger.active == 1 and held.ledger.used_activations == frozenset({1})
    assert result.effects[0] == fx.RecordPermitActivation(PERMIT.permit_id, 1, ActivationPath.PHONE_CODE)
    assert any(isinstance(e, fx.Alarm) and e.kind is fx.AlarmKind.OFFLINE_ACTIVATED and "head" in e.detail
               for e in result.effects)
    assert fx.Show(Say.OFFLINE_ACTIVE) in result.effects


def test_a_code_in_persian_digits_and_with_hyphens_activates() -> None:
    persian = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in s.PHONE_CODE)
    typed = f"{persian[:3]}-{persian[3:6]}-{persian[6:]}"
    result = step(st.Idle(day=s.PERMIT_DAY), ev.PermitCodeTyped("head", typed, AT))
    assert offline_now(day_of(result.state)) is not None


def test_a_typo_is_not_counted_and_a_wrong_code_is_counted_until_the_lock_out() -> None:
    typo = step(st.Idle(day=s.PERMIT_DAY), ev.PermitCodeTyped("head", "123-456-789", AT))
    assert typo.refusal is not None and typo.effects == (fx.Show(PermitRefused(PermitRefusal.NOT_A_CODE)),)
    state: st.State = st.Idle(day=s.PERMIT_DAY)
    for attempt in range(MAX_CODE_ATTEMPTS):
        wrong = step(state, ev.PermitCodeTyped("head", s.WRONG_CODE, AT))
        assert wrong.refusal is None and fx.RecordPermitCodeFailed(PERMIT.permit_id) in wrong.effects
        state = wrong.state
        assert isinstance(state, st.Idle) and _held(day_of(state)).ledger.failed_codes == attempt + 1
    locked = step(state, ev.PermitCodeTyped("head", s.PHONE_CODE, AT))
    assert locked.refusal is not None and locked.effects == (fx.Show(PermitRefused(PermitRefusal.LOCKED_OUT)),)


def test_a_code_used_once_cannot_activate_again_after_the_terminal_came_back_online() -> None:
    active = step(st.Idle(day=s.PERMIT_DAY), ev.PermitCodeTyped("head", s.PHONE_CODE, AT)).state
    back = step(active, ev.CommitAnswered(s.OTHER_TX, CommitOutcome.COMMITTED))
    assert offline_now(day_of(back.state)) is None and fx.RecordPermitStoodDown(PERMIT.permit_id) in back.effects
    again = step(back.state, ev.PermitCodeTyped("head", s.PHONE_CODE, AT))
    assert again.refusal is not None and again.effects == (fx.Show(PermitRefused(PermitRefusal.REUSED_CODE)),)


def test_a_code_is_typed_only_between_voters() -> None:
    result = step(st.AwaitingConfirmation(s.TX, s.CARD, day=s.PERMIT_DAY), ev.PermitCodeTyped("head", s.PHONE_CODE,
                                                                                              AT))
    assert result.refusal is not None and result.effects == (fx.Show(Say.PERMIT_WHEN_IDLE),)


@pytest.mark.parametrize(("at", "refusal"), [(PERMIT.not_before - timedelta(minutes=1), "not_yet_valid"),
                                             (PERMIT.not_after, "expired")])
def test_a_code_outside_the_window_is_refused(at: datetime, refusal: str) -> None:
    result = step(st.Idle(day=s.PERMIT_DAY), ev.PermitCodeTyped("head", s.PHONE_CODE, at))
    assert result.refusal == f"permit code refused: {refusal}"


def test_a_broadcast_activation_is_offered_and_taken_only_by_the_head_of_branch() -> None:
    broadcast = PermitActivation(PERMIT.permit_id, "D01", "B-0101", 2, AT, AT + timedelta(minutes=15))
    offered = step(st.Idle(day=s.PERMIT_DAY), ev.PermitActivationReceived(broadcast, AT + timedelta(minutes=1)))
    assert offered.effects == (fx.Show(Say.PERMIT_ACTIVATION_OFFERED),), "nothing goes offline on its own"
    assert isinstance(offered.state, st.Idle) and offline_now(offered.state.day) is None
    busy = st.CheckingPrinter(s.TX, s.CARD, day=offered.state.day)
    assert step(busy, ev.PermitActivationAccepted("operator+head", AT)).refusal is not None, "between voters only"
    result = step(offered.state, ev.PermitActivationAccepted("operator+head", AT + timedelta(minutes=2)))
    assert result.effects[0] == fx.RecordPermitActivation(PERMIT.permit_id, 2, ActivationPath.BROADCAST)
    assert isinstance(result.state, st.Idle) and offline_now(result.state.day) is not None
    assert any(isinstance(e, fx.Alarm) and "operator+head" in e.detail for e in result.effects)
    late = step(offered.state, ev.PermitActivationAccepted("operator+head", AT + timedelta(minutes=20)))
    assert isinstance(late.state, st.Idle) and offline_now(late.state.day) is None, "its life ran out meanwhile"
    assert fx.Show(PermitRefused(PermitRefusal.STALE_ACTIVATION)) in late.effects
    nothing = step(st.Idle(day=s.PERMIT_DAY), ev.PermitActivationAccepted("operator+head", AT))
    assert nothing.refusal == "no broadcast activation offered"


def test_a_stale_or_replayed_broadcast_activation_is_refused() -> None:
    broadcast = PermitActivation(PERMIT.permit_id, "D01", "B-0101", 2, AT, AT + timedelta(minutes=15))
    offered = step(st.Idle(day=s.PERMIT_DAY), ev.PermitActivationReceived(broadcast, AT + timedelta(minutes=1)))
    result = step(offered.state, ev.PermitActivationAccepted("operator+head", AT + timedelta(minutes=1)))
    back = step(result.state, ev.CommitAnswered(s.OTHER_TX, CommitOutcome.COMMITTED)).state
    replayed = step(back, ev.PermitActivationReceived(broadcast, AT + timedelta(minutes=2)))
    assert replayed.refusal == "broadcast activation refused: reused_code"
    stale = step(st.Idle(day=s.PERMIT_DAY), ev.PermitActivationReceived(broadcast, AT + timedelta(minutes=16)))
    assert stale.refusal == "broadcast activation refused: stale_activation"


def test_an_activation_of_a_permit_not_held_is_refused() -> None:
    broadcast = PermitActivation("e" * 32, "D01", "B-0101", 1, AT, AT + timedelta(minutes=15))
    result = step(st.Idle(day=s.PERMIT_DAY), ev.PermitActivationReceived(broadcast, AT))
    assert result.refusal == "activation of a permit not held" and result.effects == ()


# --- a voter offline ---------------------------------------------------------------------------------------------


def test_an_offline_slip_is_journaled_before_its_print_and_says_offline() -> None:
    result = _printed_offline()
    assert isinstance(result.state, st.Printing) and result.state.tx.offline
    record, *_ = [e for e in result.effects if isinstance(e, fx.RecordOfflineIssue)]
    prints = [e for e in result.effects if isinstance(e, fx.PrintSlip)]
    assert result.effects.index(record) < result.effects.index(prints[0]), "the record is journaled first"
    expected = offline_code(s.SECRETS.activation_key, PERMIT.permit_id, s.ME.terminal, 1, 1)
    assert (record.sequence, record.activation, record.offline_code, record.snapshot_version, record.snapshot_hit) \
        == (1, 1, expected, 7, False)
    assert prints[0] == fx.PrintSlip(s.TX, expected, s.CARD.kind, False, offline=True)
    parts = parse_offline_code(prints[0].inquiry_code)
    assert not isinstance(parts, str) and parts.sequence == 1
    assert _held(day_of(result.state)).ledger.slips_issued == 1


def test_a_printed_offline_slip_goes_to_the_outbox_and_the_next_voter_need_not_wait() -> None:
    printing = _printed_offline().state
    result = step(printing, ev.PrintSucceeded(s.TX))
    assert isinstance(result.state, st.Idle)
    assert fx.SendOfflineIssue(s.TX) in result.effects and fx.Count(fx.Counter.ISSUED) in result.effects
    assert fx.TellPeers(s.TX) in result.effects, "the permit's other terminals are told once the slip is out"
    assert not any(isinstance(e, fx.SendCommit | fx.StartDeadline) for e in result.effects)


def test_an_offline_slip_that_did_not_come_out_is_voided_in_the_journal_only() -> None:
    printing = _printed_offline().state
    interrupted = step(printing, ev.PrintUnsuccessful(s.TX, PrintStage.BEFORE, s.NO_PAPER)).state
    result = step(interrupted, ev.OperatorVoid())
    assert fx.RecordStage(s.TX, TxStage.VOIDED) in result.effects
    assert not any(isinstance(e, fx.SendVoid) for e in result.effects), "the center never heard of it"
    assert _held(day_of(result.state)).ledger.slips_issued == 1, "its sequence number stays spent"


def test_the_second_slip_gets_the_next_sequence_and_the_limit_stops_the_third() -> None:
    first = step(_printed_offline().state, ev.PrintSucceeded(s.TX)).state
    second = _printed_offline(day_of(first), s.OTHER_TX)
    record = next(e for e in second.effects if isinstance(e, fx.RecordOfflineIssue))
    assert record.sequence == 2
    done = step(second.state, ev.PrintSucceeded(s.OTHER_TX)).state
    checking = step(st.CheckingPrinter("f" * 32, s.CARD, day=day_of(done)), ev.PrinterChecked("f" * 32, s.READY)).state
    third = step(checking, ev.OfflineChecked("f" * 32, ev.OfflineVerdict.CLEAR, 7, AT))
    assert isinstance(third.state, st.OfflineRefused)
    assert third.state.notice == PermitRefused(PermitRefusal.OVER_LIMIT)
    assert fx.RecordPermitStoodDown(PERMIT.permit_id) in third.effects, "a full permit ends the offline operation"
    assert offline_now(day_of(third.state)) is None


def test_past_the_window_no_offline_slip() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    result = step(checking, ev.OfflineChecked(s.TX, ev.OfflineVerdict.CLEAR, 7, PERMIT.not_after))
    assert isinstance(result.state, st.OfflineRefused)
    assert result.state.notice == PermitRefused(PermitRefusal.EXPIRED)
    assert not any(isinstance(e, fx.PrintSlip | fx.RecordOfflineIssue) for e in result.effects)


def test_a_voter_with_a_slip_of_this_terminal_is_refused_and_counted() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    result = step(checking, ev.OfflineChecked(s.TX, ev.OfflineVerdict.ISSUED_HERE, 7, AT))
    assert isinstance(result.state, st.OfflineRefused)
    assert fx.Count(fx.Counter.DUPLICATES_REFUSED) in result.effects
    assert not any(isinstance(e, fx.PrintSlip) for e in result.effects)
    assert isinstance(step(result.state, ev.OperatorDismissed()).state, st.Idle)


def test_a_voter_another_terminal_of_the_permit_served_offline_is_refused_and_counted() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    result = step(checking, ev.OfflineChecked(s.TX, ev.OfflineVerdict.ISSUED_AT_BRANCH, 7, AT))
    assert result.state == st.OfflineRefused(s.TX, Say.OFFLINE_ISSUED_AT_BRANCH, day=s.OFFLINE_DAY)
    assert fx.Count(fx.Counter.DUPLICATES_REFUSED) in result.effects
    assert not any(isinstance(e, fx.PrintSlip | fx.RecordOfflineIssue) for e in result.effects)


def test_a_snapshot_hit_needs_the_head_and_is_alarmed_or_refused() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    hit = step(checking, ev.OfflineChecked(s.TX, ev.OfflineVerdict.SNAPSHOT_HIT, 7, AT))
    assert isinstance(hit.state, st.SnapshotHit) and not any(isinstance(e, fx.PrintSlip) for e in hit.effects)
    assert step(hit.state, ev.OperatorConfirmed()).refusal is not None, "a plain confirm is not the head's decision"
    allowed = step(hit.state, ev.OfflineHitAllowed(AT))
    record = next(e for e in allowed.effects if isinstance(e, fx.RecordOfflineIssue))
    assert record.snapshot_hit and isinstance(allowed.state, st.Printing)
    assert any(isinstance(e, fx.Alarm) and e.kind is fx.AlarmKind.SNAPSHOT_HIT_ALLOWED for e in allowed.effects)
    refused = step(hit.state, ev.OperatorRejected())
    assert isinstance(refused.state, st.Idle) and fx.Count(fx.Counter.DUPLICATES_REFUSED) in refused.effects


def test_the_check_of_another_transaction_is_refused() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    result = step(checking, ev.OfflineChecked(s.OTHER_TX, ev.OfflineVerdict.CLEAR, 7, AT))
    assert result.refusal == "offline check of another transaction" and result.effects == ()


# --- the end, and back to the live check ---------------------------------------------------------------------------


def test_an_end_stops_offline_slips_from_its_time_and_the_first_end_stands() -> None:
    end = PermitEnd(PERMIT.permit_id, "D01", "B-0101", AT + timedelta(minutes=30), AT)
    ended = step(st.Idle(day=s.OFFLINE_DAY), ev.PermitEndReceived(end))
    assert ended.effects == (fx.RecordPermitEnd(PERMIT.permit_id, end.ended_at), fx.Show(Say.PERMIT_ENDED))
    later = dataclasses.replace(end, ended_at=AT + timedelta(hours=3))
    assert step(ended.state, ev.PermitEndReceived(later)).refusal == "the permit already ended"
    before = st.CheckingOffline(s.TX, s.CARD, day=day_of(ended.state))
    assert isinstance(step(before, ev.OfflineChecked(s.TX, ev.OfflineVerdict.CLEAR, 7, AT)).state, st.Printing)
    after = step(before, ev.OfflineChecked(s.TX, ev.OfflineVerdict.CLEAR, 7, AT + timedelta(minutes=30)))
    assert isinstance(after.state, st.OfflineRefused) and after.state.notice == PermitRefused(PermitRefusal.ENDED)


@pytest.mark.parametrize("answer", [ev.CommitAnswered(s.OTHER_TX, CommitOutcome.COMMITTED),
                                    ev.OfflineIssueAnswered(s.OTHER_TX, OfflineOutcome.ISSUED, None)],
                         ids=["commit", "offline_issue"])
def test_any_answer_of_the_center_brings_the_terminal_back_to_the_live_check(answer: ev.Event) -> None:
    result = step(st.Idle(day=s.OFFLINE_DAY), answer)
    assert offline_now(day_of(result.state)) is None
    assert result.effects[-2:] == (fx.RecordPermitStoodDown(PERMIT.permit_id), fx.Show(Say.BACK_ONLINE))
    reserving = step(st.CheckingPrinter(s.TX, s.CARD, day=day_of(result.state)), ev.PrinterChecked(s.TX, s.READY))
    assert isinstance(reserving.state, st.Reserving)


def test_an_offline_voter_under_way_when_the_center_answers_finishes_offline() -> None:
    printing = _printed_offline().state
    back = step(printing, ev.CommitAnswered(s.OTHER_TX, CommitOutcome.COMMITTED))
    assert isinstance(back.state, st.Printing) and back.state.tx.offline
    assert fx.SendOfflineIssue(s.TX) in step(back.state, ev.PrintSucceeded(s.TX)).effects


def test_a_restart_mid_print_of_an_offline_slip_asks_and_replays_once_it_came_out() -> None:
    open_tx = ev.OpenTx(s.TX, s.CARD.kind, TxStage.PRINTING, s.OFFLINE_CODE, True, offline=True)
    started = step(st.Starting(), ev.JournalLoaded(st.PollsPhase.OPEN, open_tx, s.OFFLINE_DAY))
    assert isinstance(started.state, st.RecoveryDecision) and started.state.tx.offline
    came_out = step(started.state, ev.SlipCameOut())
    assert fx.SendOfflineIssue(s.TX) in came_out.effects and isinstance(came_out.state, st.Idle)
    assert fx.TellPeers(s.TX) in came_out.effects, "after a restart too"
    missing = step(started.state, ev.SlipMissing())
    assert [e for e in missing.effects if isinstance(e, fx.PrintSlip)] == [
        fx.PrintSlip(s.TX, s.OFFLINE_CODE, s.CARD.kind, True, offline=True)]


def test_a_voter_checked_offline_after_the_center_answered_again_is_asked_of_the_center() -> None:
    checking = st.CheckingOffline(s.TX, s.CARD, day=s.OFFLINE_DAY)
    back = step(checking, ev.CommitAnswered(s.OTHER_TX, CommitOutcome.COMMITTED))
    assert isinstance(back.state, st.CheckingOffline) and offline_now(day_of(back.state)) is None
    result = step(back.state, ev.OfflineChecked(s.TX, ev.OfflineVerdict.CLEAR, 7, AT))
    assert isinstance(result.state, st.Reserving) and fx.SendReserve(s.TX, s.CARD) in result.effects
    assert not any(isinstance(e, fx.RecordOfflineIssue | fx.PrintSlip) for e in result.effects)
