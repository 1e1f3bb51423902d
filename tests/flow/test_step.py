"""The flow, walked exhaustively: every state x event pair has a defined result, and the safety rules hold."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from firmware_app.flow import diagram, texts
from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow.notices import (
    ClockOff,
    ClosingNotYet,
    Component,
    DocumentRefused,
    Duplicate,
    Extended,
    FaceResult,
    Finding,
    NotOpenYet,
    PrinterUnready,
    Say,
    SelfTestFailed,
    SelfTestWarnings,
    SlipNotPrinted,
    ZeroReportFailed,
)
from firmware_app.flow.offline import offline_now
from firmware_app.flow.step import step
from firmware_app.identity.verdict import FaceProblem
from hal.printer import PrintStage
from protocol.messages import CommitOutcome, DocumentKind, ReserveOutcome, VoidReason
from protocol.national_code import NationalCodeProblem
from tests.flow.pairs import PAIRS, SIDE_EFFECTS, meant, name

DAY = s.DAY


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=name)
def test_a_refusal_leaves_the_state_identical_and_does_nothing(state: st.State, event: ev.Event) -> None:
    result = step(state, event)
    if result.refusal is None:
        return
    assert result.state is state, "a refusal must leave the state as it was"
    done = [e for e in result.effects if isinstance(e, SIDE_EFFECTS)]
    assert not done, f"a refusal must change nothing, but {type(event).__name__} in {type(state).__name__} did {done}"
    assert all(isinstance(e, fx.Show) for e in result.effects), "a refusal may only tell the operator why"


def test_every_notice_any_pair_shows_or_holds_has_its_persian() -> None:
    """`texts.render` knows every notice a step shows, and every notice a state holds for the screen."""
    problems = []
    for state, event in PAIRS:
        result = step(state, event)
        held = result.state
        notices = [e.notice for e in result.effects if isinstance(e, fx.Show)]
        if isinstance(held, st.PollsNotOpen | st.VoterRefused) and held.notice is not None:
            notices.append(held.notice)
        if isinstance(held, st.DocumentRejected):
            notices.append(held.refused)
        for notice in notices:
            try:
                said = texts.render(notice)
            except KeyError as missing:
                problems.append(f"{name(state)} + {name(event)}: no text for {notice!r} ({missing})")
                continue
            if not said:
                problems.append(f"{name(state)} + {name(event)}: {notice!r} renders to nothing")
    assert not problems, "\n".join(problems[:40])


def test_a_pair_without_a_rule_is_refused_by_name() -> None:
    result = step(st.PollsClosed(day=DAY), ev.OperatorConfirmed())
    assert result.refusal == "OperatorConfirmed is not accepted in PollsClosed"
    assert result.effects == ()


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=name)
def test_a_slip_is_printed_only_for_an_eligible_answer_already_held(state: st.State, event: ev.Event) -> None:
    prints = [e for e in step(state, event).effects if isinstance(e, fx.PrintSlip)]
    if not prints:
        return
    taken = meant(state, event)
    match state:
        case st.Reserving():
            assert isinstance(taken, ev.ReserveAnswered)
            assert taken.tx_id == state.tx.tx_id and not state.tx.recovered
            assert taken.answer.outcome is ReserveOutcome.ELIGIBLE
            assert prints[0].inquiry_code == taken.answer.inquiry_code
        case st.AnsweredLate():
            assert isinstance(taken, ev.OperatorConfirmed), "a late answer prints only when the operator says so"
            assert prints[0].inquiry_code == state.inquiry_code
        case st.PrintInterrupted() | st.RecoveryDecision():
            assert prints[0].inquiry_code == state.inquiry_code
            assert prints[0].offline is state.tx.offline
        case st.CheckingOffline() | st.SnapshotHit():
            clear = isinstance(taken, ev.OfflineChecked) and taken.verdict is ev.OfflineVerdict.CLEAR
            allowed = isinstance(state, st.SnapshotHit) and isinstance(taken, ev.OfflineHitAllowed)
            assert clear or allowed, "an OFFLINE slip only for a clear check or the head's decision on a hit"
            assert isinstance(taken, ev.OfflineHitAllowed) or (isinstance(taken, ev.OfflineChecked)
                                                               and taken.tx_id == state.tx_id)
            [record] = [e for e in step(state, event).effects if isinstance(e, fx.RecordOfflineIssue)]
            assert prints[0].offline and prints[0].inquiry_code == record.offline_code
            assert record.snapshot_hit is allowed
        case _:
            pytest.fail(f"PrintSlip from {type(state).__name__} on {type(event).__name__}")


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=name)
def test_a_reserve_is_sent_only_after_confirmation_and_a_ready_printer(state: st.State, event: ev.Event) -> None:
    result = step(state, event)
    taken = meant(state, event)
    if any(isinstance(e, fx.SendReserve | fx.CheckOffline) for e in result.effects):
        if isinstance(state, st.CheckingOffline | st.SnapshotHit):
            assert offline_now(state.day) is None, "a voter checked offline is asked of the center only once back"
            return
        assert isinstance(state, st.CheckingPrinter) and isinstance(taken, ev.PrinterChecked)
        assert taken.status.can_print and taken.tx_id == state.tx_id
        offline = any(isinstance(e, fx.CheckOffline) for e in result.effects)
        assert offline is (offline_now(state.day) is not None), "offline exactly when a permit is in use"
    if isinstance(result.state, st.CheckingPrinter) and not isinstance(state, st.CheckingPrinter):
        confirmed = (isinstance(state, st.AwaitingConfirmation) and isinstance(taken, ev.OperatorConfirmed)
                     and state.face in {st.FaceVerdict.MATCH, st.FaceVerdict.UNAVAILABLE})
        overridden = (isinstance(state, st.AwaitingConfirmation) and isinstance(taken, ev.OperatorOverrode)
                      and state.face is st.FaceVerdict.NO_MATCH and fx.Count(fx.Counter.FACE_OVERRIDES) in result.effects)
        retried = isinstance(state, st.PrinterNotReady) and isinstance(taken, ev.OperatorRetry)
        assert confirmed or overridden or retried


def test_whole_voter_from_card_to_commit() -> None:
    inserted = step(st.Idle(day=DAY), ev.CardInserted())
    assert inserted.effects == (fx.ReadCard(),)
    presented = step(inserted.state, ev.DocumentPresented(s.TX, s.CARD))
    assert presented.state == st.AwaitingConfirmation(s.TX, s.CARD, st.FaceVerdict.PENDING, day=DAY)
    assert fx.CheckFace(s.TX, s.CARD.photo) in presented.effects
    checked = step(presented.state, ev.FaceChecked(s.TX, st.FaceVerdict.MATCH, 0.31))
    assert isinstance(checked.state, st.AwaitingConfirmation) and checked.state.face is st.FaceVerdict.MATCH
    assert fx.Show(FaceResult(st.FaceVerdict.MATCH, 0.31, None)) in checked.effects
    result = step(checked.state, ev.OperatorConfirmed())
    assert result.state == st.CheckingPrinter(s.TX, s.CARD, day=DAY) and fx.CheckPrinter(s.TX) in result.effects
    result = step(result.state, ev.PrinterChecked(s.TX, s.READY))
    assert isinstance(result.state, st.Reserving)
    assert fx.SendReserve(s.TX, s.CARD) in result.effects
    assert fx.StartDeadline(s.TX, ev.DeadlineKind.RESERVE) in result.effects
    result = step(result.state, ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert isinstance(result.state, st.Printing) and not result.state.reprint
    assert fx.CancelDeadline() in result.effects
    assert fx.RecordStage(s.TX, ev.TxStage.ELIGIBLE, s.CODE) in result.effects
    result = step(result.state, ev.PrintSucceeded(s.TX))
    assert isinstance(result.state, st.Committing)
    assert fx.SendCommit(s.TX, s.CODE) in result.effects and fx.Count(fx.Counter.ISSUED) in result.effects
    result = step(result.state, ev.CommitAnswered(s.TX, CommitOutcome.COMMITTED))
    assert result.state == st.Idle(day=DAY)
    assert fx.CancelDeadline() in result.effects
    assert fx.RecordStage(s.TX, ev.TxStage.ISSUED) in result.effects


def test_typed_code_with_wrong_check_digit_is_rejected_and_counted() -> None:
    result = step(st.Idle(day=DAY), ev.NationalCodeTyped(s.TX, "0012345678", DocumentKind.BIRTH_CERTIFICATE))
    assert isinstance(result.state, st.DocumentRejected)
    assert result.state.refused.problem is NationalCodeProblem.CHECK_DIGIT
    assert fx.Show(result.state.refused) in result.effects
    assert "رقم کنترل" in texts.render(result.state.refused)
    assert fx.Count(fx.Counter.REJECTED_DOCUMENTS) in result.effects


def test_a_typed_code_cannot_stand_for_a_smart_card() -> None:
    result = step(st.Idle(day=DAY), ev.NationalCodeTyped(s.TX, "0012345679", DocumentKind.SMART_CARD))
    assert result.state == st.DocumentRejected(DocumentRefused(None), day=DAY)
    assert texts.render(DocumentRefused(None)) == texts.TYPED_FOR_A_CARD


def test_typed_code_in_persian_digits_is_accepted() -> None:
    result = step(st.Idle(day=DAY), ev.NationalCodeTyped(s.TX, "۰۰۱۲۳۴۵۶۷۹", DocumentKind.BIRTH_CERTIFICATE))
    assert isinstance(result.state, st.AwaitingConfirmation)
    assert result.state.document.national_code.digits == "0012345679"
    assert result.state.document.kind is DocumentKind.BIRTH_CERTIFICATE


def test_no_answer_in_time_means_no_slip_and_the_operator_decides() -> None:
    result = step(st.Reserving(s.SMART_TX, day=DAY), ev.DeadlineExpired(s.TX, ev.DeadlineKind.RESERVE))
    assert result.state == st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY)
    assert fx.Show(Say.NO_ANSWER) in result.effects
    assert not any(isinstance(e, fx.PrintSlip) for e in result.effects)
    retry = step(result.state, ev.OperatorRetry())
    assert retry.state == st.Reserving(s.SMART_TX, day=DAY) and fx.ResendReserve(s.TX) in retry.effects
    assert fx.StartDeadline(s.TX, ev.DeadlineKind.RESERVE) in retry.effects
    void = step(result.state, ev.OperatorVoid())
    assert void.state == st.Idle(day=DAY) and fx.SendVoid(s.TX, VoidReason.NO_ANSWER) in void.effects


def test_a_late_eligible_answer_after_the_deadline_prints_nothing_and_asks_the_operator() -> None:
    result = step(st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY),
                  ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert result.state == st.AnsweredLate(s.SMART_TX, s.CODE, day=DAY)
    assert not any(isinstance(e, fx.PrintSlip) for e in result.effects), "the late answer printed by itself"


def test_an_unverifiable_answer_never_prints() -> None:
    result = step(st.Reserving(s.SMART_TX, day=DAY), ev.AnswerUnverifiable("bad_signature"))
    assert result.state == st.NoAnswer(s.SMART_TX, st.NoAnswerReason.UNVERIFIABLE, day=DAY)
    assert fx.Alarm(fx.AlarmKind.UNVERIFIABLE_ANSWER, "bad_signature") in result.effects
    assert fx.Show(Say.UNVERIFIABLE) in result.effects and fx.CancelDeadline() in result.effects


def test_duplicate_is_refused_counted_and_names_the_first_branch() -> None:
    result = step(st.Reserving(s.SMART_TX, day=DAY), ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.DUPLICATE)))
    assert isinstance(result.state, st.VoterRefused) and result.state.outcome is ReserveOutcome.DUPLICATE
    assert result.state.notice == Duplicate("B-0102", s.AT)
    assert fx.Show(Duplicate("B-0102", s.AT)) in result.effects
    assert "B-0102" in texts.render(result.state.notice)
    assert fx.Count(fx.Counter.DUPLICATES_REFUSED) in result.effects


def test_print_failure_mid_slip_keeps_the_reservation_and_reprints_the_same_code() -> None:
    failed = step(st.Printing(s.SMART_TX, s.CODE, reprint=False, day=DAY),
                  ev.PrintUnsuccessful(s.TX, PrintStage.DURING, s.NO_PAPER))
    assert failed.state == st.PrintInterrupted(s.SMART_TX, s.CODE, PrintStage.DURING, s.NO_PAPER, reprint=True,
                                               day=DAY)
    assert fx.RecordStage(s.TX, ev.TxStage.PRINT_FAILED, s.CODE, paper_moved=True) in failed.effects
    assert fx.Show(SlipNotPrinted(s.NO_PAPER)) in failed.effects
    again = step(failed.state, ev.OperatorRetry())
    assert again.state == st.Printing(s.SMART_TX, s.CODE, reprint=True, day=DAY)
    assert fx.PrintSlip(s.TX, s.CODE, s.SMART_TX.document, True) in again.effects


def test_print_failure_before_paper_moved_prints_a_normal_slip_after_the_fix() -> None:
    failed = step(st.Printing(s.SMART_TX, s.CODE, reprint=False, day=DAY),
                  ev.PrintUnsuccessful(s.TX, PrintStage.BEFORE, s.NO_PAPER))
    assert isinstance(failed.state, st.PrintInterrupted) and not failed.state.reprint
    assert step(failed.state, ev.OperatorRetry()).state == st.Printing(s.SMART_TX, s.CODE, reprint=False, day=DAY)


def test_recovery_of_an_uncertain_print_asks_the_operator() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.PRINTING, s.CODE, False), DAY)
    result = step(st.Starting(), loaded)
    assert isinstance(result.state, st.RecoveryDecision) and result.state.day == DAY
    assert result.state.question is st.RecoveryQuestion.DID_SLIP_COME_OUT
    assert fx.Show(Say.RECOVERY_DID_SLIP_COME_OUT) in result.effects
    came_out = step(result.state, ev.SlipCameOut())
    assert isinstance(came_out.state, st.Committing) and fx.SendCommit(s.TX, s.CODE) in came_out.effects
    missing = step(result.state, ev.SlipMissing())
    assert isinstance(missing.state, st.Printing) and missing.state.reprint


def test_a_print_cut_short_by_a_restart_is_shown_without_a_printer_word() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.PRINT_FAILED, s.CODE, True), DAY)
    result = step(st.Starting(), loaded)
    assert result.state == st.PrintInterrupted(s.RECOVERED_TX, s.CODE, PrintStage.DURING, None, reprint=True,
                                               day=DAY)
    assert fx.Show(SlipNotPrinted(None)) in result.effects
    assert "راه‌اندازی دوباره" in texts.render(SlipNotPrinted(None))


def test_recovered_reserve_is_resent_and_an_eligible_answer_waits_for_the_operator() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.RESERVE_PENDING, None, False), DAY)
    result = step(st.Starting(), loaded)
    assert result.state == st.Reserving(s.RECOVERED_TX, day=DAY) and fx.ResendReserve(s.TX) in result.effects
    assert fx.StartDeadline(s.TX, ev.DeadlineKind.RESERVE) in result.effects
    answered = step(result.state, ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert isinstance(answered.state, st.RecoveryDecision)
    assert not any(isinstance(e, fx.PrintSlip) for e in answered.effects)


def test_the_day_read_from_the_journal_is_the_day_every_state_then_holds() -> None:
    extended = dataclasses.replace(DAY, closes_at=DAY.closes_at + timedelta(hours=1))
    for phase in st.PollsPhase:
        result = step(st.Starting(), ev.JournalLoaded(phase, None, extended))
        assert not isinstance(result.state, st.Starting) and result.state.day == extended, phase


def test_polls_do_not_open_before_the_set_hour() -> None:
    early = step(st.PollsNotOpen(day=DAY), ev.OpenPollsRequested(s.AT.replace(hour=3)))
    assert early.refusal is not None and early.state == st.PollsNotOpen(day=DAY)
    assert early.effects == (fx.Show(NotOpenYet(DAY.opens_at)),)
    on_time = step(st.PollsNotOpen(day=DAY), ev.OpenPollsRequested(DAY.opens_at))
    assert on_time.state == st.SelfTesting(day=DAY) and fx.RunSelfTest() in on_time.effects


def test_opening_is_self_test_then_zero_report_then_the_center() -> None:
    camera = Finding(Component.CAMERA, "not_found")
    tested = step(st.SelfTesting(day=DAY), ev.SelfTestFinished((), (camera,)))
    assert tested.state == st.PrintingZeroReport(day=DAY)
    assert fx.PrintReport(st.ReportKind.ZERO) in tested.effects
    assert fx.Show(SelfTestWarnings((camera,))) in tested.effects
    assert "دوربین" in texts.render(SelfTestWarnings((camera,)))
    printed = step(tested.state, ev.ReportPrinted(st.ReportKind.ZERO))
    assert printed.state == st.Opening(day=DAY) and fx.SendOpen() in printed.effects
    assert fx.StartDeadline("polls", ev.DeadlineKind.OPEN) in printed.effects
    opened = step(printed.state, ev.OpenAcknowledged(s.AT, s.AT + timedelta(seconds=30)))
    assert opened.state == st.Idle(day=DAY) and fx.SetPolls(st.PollsPhase.OPEN) in opened.effects
    assert fx.CancelDeadline() in opened.effects


@pytest.mark.parametrize(("ahead", "words"), [
    (timedelta(minutes=10, seconds=5), ("۱۰ دقیقه و ۵ ثانیه", "جلوتر")),
    (-timedelta(seconds=121), ("۲ دقیقه و ۱ ثانیه", "عقب‌تر")),
    (timedelta(hours=2, seconds=3), ("۲ ساعت و ۳ ثانیه", "جلوتر")),
])
def test_a_clock_far_from_the_centers_keeps_the_polls_closed_and_says_by_how_much(
    ahead: timedelta, words: tuple[str, str]
) -> None:
    refused = step(st.Opening(day=DAY), ev.OpenAcknowledged(s.AT, s.AT + ahead))
    assert refused.state == st.PollsNotOpen(ClockOff(ahead), day=DAY)
    said = texts.render(ClockOff(ahead))
    assert all(word in said for word in words), said
    assert fx.Show(ClockOff(ahead)) in refused.effects
    assert any(isinstance(e, fx.Alarm) and e.kind is fx.AlarmKind.CLOCK_OFF for e in refused.effects), (
        "the refusal to open must be audited")
    assert not any(isinstance(e, fx.SetPolls) for e in refused.effects)


def test_the_clock_bound_is_inclusive_and_configurable() -> None:
    at_bound = step(st.Opening(day=DAY), ev.OpenAcknowledged(s.AT, s.AT - ev.CLOCK_TOLERANCE))
    assert at_bound.state == st.Idle(day=DAY)
    strict = step(st.Opening(day=DAY), ev.OpenAcknowledged(s.AT, s.AT + timedelta(seconds=20), timedelta(seconds=10)))
    assert isinstance(strict.state, st.PollsNotOpen)


def test_after_a_clock_refusal_the_operator_can_try_to_open_again() -> None:
    refused = step(st.Opening(day=DAY), ev.OpenAcknowledged(s.AT, s.AT + timedelta(hours=1)))
    again = step(refused.state, ev.OpenPollsRequested(s.AT))
    assert again.state == st.SelfTesting(day=DAY)


def test_a_failed_self_test_or_zero_report_keeps_the_polls_closed() -> None:
    printer = Finding(Component.PRINTER, "no_paper")
    failed = step(st.SelfTesting(day=DAY), ev.SelfTestFinished((printer,)))
    assert failed.state == st.PollsNotOpen(SelfTestFailed((printer,)), day=DAY)
    assert "چاپگر" in texts.render(SelfTestFailed((printer,)))
    assert not any(isinstance(e, fx.PrintReport | fx.SendOpen) for e in failed.effects)
    unprinted = step(st.PrintingZeroReport(day=DAY), ev.ReportNotPrinted(st.ReportKind.ZERO, s.NO_PAPER))
    assert unprinted.state == st.PollsNotOpen(ZeroReportFailed(s.NO_PAPER), day=DAY)


def test_closing_waits_for_the_closing_time_then_prints_and_sends_the_report() -> None:
    early = step(st.Idle(day=DAY), ev.ClosePollsRequested(s.AT))
    assert early.refusal == "before the closing time" and early.state == st.Idle(day=DAY)
    assert early.effects == (fx.Show(ClosingNotYet(DAY.closes_at)),)
    due = step(st.Idle(day=DAY), ev.ClosePollsRequested(DAY.closes_at))
    assert due.state == st.Closing(day=DAY)
    assert fx.SetPolls(st.PollsPhase.CLOSED) in due.effects and fx.SendClose() in due.effects
    assert fx.PrintReport(st.ReportKind.CLOSING) in due.effects
    closed = step(due.state, ev.CloseAcknowledged(412))
    assert closed.state == st.PollsClosed(day=DAY) and fx.CancelDeadline() in closed.effects
    assert fx.RecordBranchCommitted(412) in closed.effects, "the center's count for the minutes is journaled"
    assert step(closed.state, ev.ReprintClosingReport()).effects == (fx.PrintReport(st.ReportKind.CLOSING),)


@pytest.mark.parametrize("state", s.STATES, ids=name)
def test_an_extension_moves_the_closing_time_in_any_state_until_the_polls_close(state: st.State) -> None:
    until = DAY.closes_at + timedelta(hours=2)
    result = step(state, ev.ClosingExtended(until))
    if isinstance(state, st.Starting | st.Closing | st.AfterClose):
        assert result.refusal is not None and result.state is state and result.effects == ()
        return
    assert result.state == dataclasses.replace(state, day=dataclasses.replace(state.day, closes_at=until))
    assert result.effects == (fx.RecordExtension(until), fx.Show(Extended(until)))


@pytest.mark.parametrize("until", [DAY.closes_at, DAY.closes_at - timedelta(hours=1),
                                   DAY.latest_close + timedelta(seconds=1)], ids=["same", "earlier", "too-late"])
def test_an_extension_that_is_not_later_or_goes_past_the_longest_allowed_is_refused(until: datetime) -> None:
    state = st.Idle(day=DAY)
    result = step(state, ev.ClosingExtended(until))
    assert result.refusal is not None and result.state is state and result.effects == ()


def test_an_extension_to_the_latest_close_is_allowed() -> None:
    result = step(st.Idle(day=DAY), ev.ClosingExtended(DAY.latest_close))
    assert result.state == st.Idle(day=dataclasses.replace(DAY, closes_at=DAY.latest_close))


def test_a_face_mismatch_needs_the_logged_override() -> None:
    waiting = st.AwaitingConfirmation(s.TX, s.CARD, day=DAY)
    pending = step(waiting, ev.OperatorConfirmed())
    assert pending.refusal == "the face check has not finished" and pending.effects == (fx.Show(Say.FACE_WAIT),)
    mismatch = step(waiting, ev.FaceChecked(s.TX, st.FaceVerdict.NO_MATCH, 0.84)).state
    needed = step(mismatch, ev.OperatorConfirmed())
    assert needed.refusal == "a face mismatch needs the override"
    assert needed.effects == (fx.Show(Say.FACE_OVERRIDE_NEEDED),)
    overridden = step(mismatch, ev.OperatorOverrode(ev.OverrideReason.APPEARANCE_CHANGED))
    assert overridden.state == st.CheckingPrinter(s.TX, s.CARD, day=DAY)
    assert fx.Count(fx.Counter.FACE_OVERRIDES) in overridden.effects
    assert fx.Alarm(fx.AlarmKind.FACE_OVERRIDDEN, f"{s.TX}: appearance_changed") in overridden.effects
    assert step(mismatch, ev.OperatorRejected()).state == st.Idle(day=DAY)


def test_a_face_result_for_another_transaction_or_a_second_one_is_refused() -> None:
    waiting = st.AwaitingConfirmation(s.TX, s.CARD, day=DAY)
    assert step(waiting, ev.FaceChecked(s.OTHER_TX, st.FaceVerdict.MATCH, 0.2)).refusal is not None
    matched = step(waiting, ev.FaceChecked(s.TX, st.FaceVerdict.MATCH, 0.2)).state
    second = step(matched, ev.FaceChecked(s.TX, st.FaceVerdict.NO_MATCH, 0.9))
    assert second.refusal is not None and second.state is matched


def test_without_a_face_score_the_operator_still_decides() -> None:
    typed = step(st.Idle(day=DAY), ev.NationalCodeTyped(s.TX, "0012345679", DocumentKind.BIRTH_CERTIFICATE)).state
    assert isinstance(typed, st.AwaitingConfirmation) and typed.face is st.FaceVerdict.UNAVAILABLE
    assert typed.face_problem is FaceProblem.NO_PHOTO
    assert isinstance(step(typed, ev.OperatorConfirmed()).state, st.CheckingPrinter)
    unavailable = step(st.AwaitingConfirmation(s.TX, s.CARD, day=DAY),
                       ev.FaceChecked(s.TX, st.FaceVerdict.UNAVAILABLE, None, FaceProblem.NO_CAMERA))
    shown = FaceResult(st.FaceVerdict.UNAVAILABLE, None, FaceProblem.NO_CAMERA)
    assert fx.Show(shown) in unavailable.effects
    assert texts.FACE_PROBLEMS[FaceProblem.NO_CAMERA] in texts.render(shown)
    assert isinstance(step(unavailable.state, ev.OperatorConfirmed()).state, st.CheckingPrinter)


def test_a_card_without_a_photo_goes_straight_to_the_operator_without_a_face_check() -> None:
    bare = dataclasses.replace(s.CARD, photo=b"")
    result = step(st.Idle(day=DAY), ev.DocumentPresented(s.TX, bare))
    assert result.state == st.AwaitingConfirmation(s.TX, bare, st.FaceVerdict.UNAVAILABLE, None,
                                                   FaceProblem.NO_PHOTO, day=DAY)
    assert not any(isinstance(e, fx.CheckFace) for e in result.effects)


def test_card_pulled_before_confirmation_drops_the_document() -> None:
    pulled = step(st.AwaitingConfirmation(s.TX, s.CARD, day=DAY), ev.CardRemoved())
    assert pulled.state == st.Idle(day=DAY) and fx.Show(Say.CARD_REMOVED) in pulled.effects
    typed = step(st.AwaitingConfirmation(s.TX, s.TYPED, day=DAY), ev.CardRemoved())
    assert typed.refusal is not None


def test_a_printer_without_paper_stops_the_voter_before_the_center_is_asked() -> None:
    result = step(st.CheckingPrinter(s.TX, s.CARD, day=DAY), ev.PrinterChecked(s.TX, s.NO_PAPER))
    assert result.state == st.PrinterNotReady(s.TX, s.CARD, s.NO_PAPER, day=DAY)
    assert fx.Show(PrinterUnready(s.NO_PAPER)) in result.effects
    assert texts.PRINTER_STATES[s.NO_PAPER.state] in texts.render(PrinterUnready(s.NO_PAPER))
    assert not any(isinstance(e, fx.SendReserve) for e in result.effects)
    again = step(result.state, ev.OperatorRetry())
    assert again.state == st.CheckingPrinter(s.TX, s.CARD, day=DAY)


def test_a_printer_check_for_another_transaction_is_refused() -> None:
    state = st.CheckingPrinter(s.TX, s.CARD, day=DAY)
    result = step(state, ev.PrinterChecked(s.OTHER_TX, s.READY))
    assert result.refusal is not None and result.state is state and result.effects == ()


def test_cancel_while_reserving_voids_at_the_center() -> None:
    result = step(st.Reserving(s.SMART_TX, day=DAY), ev.OperatorCancelled())
    assert result.state == st.Idle(day=DAY)
    assert fx.SendVoid(s.TX, VoidReason.OPERATOR_CANCELLED) in result.effects
    assert fx.CancelDeadline() in result.effects


def test_printing_cannot_be_cancelled() -> None:
    assert step(st.Printing(s.SMART_TX, s.CODE, reprint=False, day=DAY), ev.OperatorCancelled()).refusal is not None


def test_the_diagrams_in_the_docs_and_readme_are_generated_from_the_flow() -> None:
    assert diagram.DOC_PATH.read_text() == diagram.document(), "run python -m firmware_app.flow.diagram"
    readme = diagram.README_PATH.read_text()
    assert readme == diagram.readme_with_diagram(readme), "run python -m firmware_app.flow.diagram"
