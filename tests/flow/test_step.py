"""The flow, walked exhaustively: every state x event pair has a defined result, and the safety rules hold."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from firmware_app.flow import diagram
from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import states as st
from firmware_app.flow.step import RULES, step
from hal.printer import PrintStage
from protocol.messages import CommitOutcome, DocumentKind, ReserveOutcome, VoidReason
from tests.flow import samples as s

PAIRS = list(itertools.product(s.STATES, s.EVENTS))
SIDE_EFFECTS = (fx.SendReserve, fx.ResendReserve, fx.SendCommit, fx.SendVoid, fx.SendOpen, fx.SendClose,
                fx.PrintSlip, fx.RecordStage, fx.Count, fx.SetPolls)


def test_samples_cover_every_state_and_event_type() -> None:
    assert {type(x) for x in s.STATES} == set(st.ALL_STATES)
    assert {type(x) for x in s.EVENTS} == set(ev.ALL_EVENTS)


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=lambda x: type(x).__name__)
def test_every_pair_is_a_declared_transition_or_an_explicit_refusal(state: st.State, event: ev.Event) -> None:
    result = step(state, event)
    rule = RULES.get((type(state), type(event)))
    if result.refusal is not None:
        assert result.state is state, "a refusal must leave the state as it was"
        assert not any(isinstance(e, SIDE_EFFECTS) for e in result.effects), "a refusal must change nothing"
        return
    assert rule is not None, f"{type(event).__name__} in {type(state).__name__} has no rule but was not refused"
    assert type(result.state) in rule.targets, "the diagram would not show this transition"


def test_pairs_without_a_rule_are_refused() -> None:
    result = step(st.PollsClosed(), ev.OperatorConfirmed())
    assert result.refusal == "OperatorConfirmed is not accepted in PollsClosed"
    assert result.effects == ()


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=lambda x: type(x).__name__)
def test_a_slip_is_printed_only_for_an_eligible_answer_already_held(state: st.State, event: ev.Event) -> None:
    prints = [e for e in step(state, event).effects if isinstance(e, fx.PrintSlip)]
    if not prints:
        return
    match state:
        case st.Reserving():
            assert isinstance(event, ev.ReserveAnswered)
            assert event.tx_id == state.tx.tx_id and not state.tx.recovered
            assert event.answer.outcome is ReserveOutcome.ELIGIBLE
            assert prints[0].inquiry_code == event.answer.inquiry_code
        case st.AnsweredLate():
            assert isinstance(event, ev.OperatorConfirmed), "a late answer prints only when the operator says so"
            assert prints[0].inquiry_code == state.inquiry_code
        case st.PrintFailed() | st.RecoveryDecision():
            assert prints[0].inquiry_code == state.inquiry_code
        case _:
            pytest.fail(f"PrintSlip from {type(state).__name__} on {type(event).__name__}")


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=lambda x: type(x).__name__)
def test_a_reserve_is_sent_only_after_confirmation_and_a_ready_printer(state: st.State, event: ev.Event) -> None:
    result = step(state, event)
    if any(isinstance(e, fx.SendReserve) for e in result.effects):
        assert isinstance(state, st.CheckingPrinter) and isinstance(event, ev.PrinterChecked)
        assert event.ready and event.tx_id == state.tx_id
    if isinstance(result.state, st.CheckingPrinter) and not isinstance(state, st.CheckingPrinter):
        confirmed = (isinstance(state, st.AwaitingConfirmation) and isinstance(event, ev.OperatorConfirmed)
                     and state.face in {st.FaceVerdict.MATCH, st.FaceVerdict.UNAVAILABLE})
        overridden = (isinstance(state, st.AwaitingConfirmation) and isinstance(event, ev.OperatorOverrode)
                      and state.face is st.FaceVerdict.NO_MATCH and fx.Count(fx.Counter.FACE_OVERRIDES) in result.effects)
        retried = isinstance(state, st.PrinterNotReady) and isinstance(event, ev.OperatorRetry)
        assert confirmed or overridden or retried


def test_whole_voter_from_card_to_commit() -> None:
    presented = step(st.Idle(), ev.DocumentPresented(s.TX, s.CARD))
    assert presented.state == st.AwaitingConfirmation(s.TX, s.CARD, st.FaceVerdict.PENDING)
    assert fx.CheckFace(s.TX, s.CARD.photo) in presented.effects
    state = step(presented.state, ev.FaceChecked(s.TX, st.FaceVerdict.MATCH, 0.31, "")).state
    assert isinstance(state, st.AwaitingConfirmation) and state.face is st.FaceVerdict.MATCH
    result = step(state, ev.OperatorConfirmed())
    assert result.state == st.CheckingPrinter(s.TX, s.CARD) and fx.CheckPrinter(s.TX) in result.effects
    result = step(result.state, ev.PrinterChecked(s.TX, True, "ready"))
    assert isinstance(result.state, st.Reserving)
    assert fx.SendReserve(s.TX, s.CARD) in result.effects
    result = step(result.state, ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert isinstance(result.state, st.Printing) and not result.state.reprint
    assert fx.RecordStage(s.TX, ev.TxStage.ELIGIBLE, s.CODE) in result.effects
    result = step(result.state, ev.PrintSucceeded(s.TX))
    assert isinstance(result.state, st.Committing)
    assert fx.SendCommit(s.TX, s.CODE) in result.effects and fx.Count(fx.Counter.ISSUED) in result.effects
    result = step(result.state, ev.CommitAnswered(s.TX, CommitOutcome.COMMITTED))
    assert result.state == st.Idle()
    assert fx.RecordStage(s.TX, ev.TxStage.ISSUED) in result.effects


def test_typed_code_with_wrong_check_digit_is_rejected_and_counted() -> None:
    result = step(st.Idle(), ev.NationalCodeTyped(s.TX, "0012345678", DocumentKind.BIRTH_CERTIFICATE))
    assert isinstance(result.state, st.DocumentRejected)
    assert "رقم کنترل" in result.state.message
    assert fx.Count(fx.Counter.REJECTED_DOCUMENTS) in result.effects


def test_typed_code_in_persian_digits_is_accepted() -> None:
    result = step(st.Idle(), ev.NationalCodeTyped(s.TX, "۰۰۱۲۳۴۵۶۷۹", DocumentKind.BIRTH_CERTIFICATE))
    assert isinstance(result.state, st.AwaitingConfirmation)
    assert result.state.document.national_code.digits == "0012345679"
    assert result.state.document.kind is DocumentKind.BIRTH_CERTIFICATE


def test_no_answer_in_time_means_no_slip_and_the_operator_decides() -> None:
    result = step(st.Reserving(s.SMART_TX), ev.DeadlineExpired(s.TX, ev.DeadlineKind.RESERVE))
    assert result.state == st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT)
    assert not any(isinstance(e, fx.PrintSlip) for e in result.effects)
    retry = step(result.state, ev.OperatorRetry())
    assert retry.state == st.Reserving(s.SMART_TX) and fx.ResendReserve(s.TX) in retry.effects
    void = step(result.state, ev.OperatorVoid())
    assert void.state == st.Idle() and fx.SendVoid(s.TX, VoidReason.NO_ANSWER) in void.effects


def test_a_late_eligible_answer_after_the_deadline_prints_nothing_and_asks_the_operator() -> None:
    result = step(st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT),
                  ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert result.state == st.AnsweredLate(s.SMART_TX, s.CODE)
    assert not any(isinstance(e, fx.PrintSlip) for e in result.effects), "the late answer printed by itself"


def test_an_unverifiable_answer_never_prints() -> None:
    result = step(st.Reserving(s.SMART_TX), ev.AnswerUnverifiable("bad_signature"))
    assert result.state == st.NoAnswer(s.SMART_TX, st.NoAnswerReason.UNVERIFIABLE)
    assert any(isinstance(e, fx.Alarm) for e in result.effects)


def test_duplicate_is_refused_counted_and_names_the_first_branch() -> None:
    result = step(st.Reserving(s.SMART_TX), ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.DUPLICATE)))
    assert isinstance(result.state, st.Refused)
    assert "B-0102" in result.state.message
    assert fx.Count(fx.Counter.DUPLICATES_REFUSED) in result.effects


def test_print_failure_mid_slip_keeps_the_reservation_and_reprints_the_same_code() -> None:
    failed = step(st.Printing(s.SMART_TX, s.CODE, reprint=False),
                  ev.PrintUnsuccessful(s.TX, PrintStage.DURING, "no paper"))
    assert isinstance(failed.state, st.PrintFailed) and failed.state.reprint
    again = step(failed.state, ev.OperatorRetry())
    assert again.state == st.Printing(s.SMART_TX, s.CODE, reprint=True)
    assert fx.PrintSlip(s.TX, s.CODE, s.SMART_TX.document, True) in again.effects


def test_print_failure_before_paper_moved_prints_a_normal_slip_after_the_fix() -> None:
    failed = step(st.Printing(s.SMART_TX, s.CODE, reprint=False),
                  ev.PrintUnsuccessful(s.TX, PrintStage.BEFORE, "no paper"))
    assert isinstance(failed.state, st.PrintFailed) and not failed.state.reprint
    assert step(failed.state, ev.OperatorRetry()).state == st.Printing(s.SMART_TX, s.CODE, reprint=False)


def test_recovery_of_an_uncertain_print_asks_the_operator() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.PRINTING, s.CODE, False))
    result = step(st.Starting(), loaded)
    assert isinstance(result.state, st.RecoveryDecision)
    assert result.state.question is st.RecoveryQuestion.DID_SLIP_COME_OUT
    came_out = step(result.state, ev.SlipCameOut())
    assert isinstance(came_out.state, st.Committing) and fx.SendCommit(s.TX, s.CODE) in came_out.effects
    missing = step(result.state, ev.SlipMissing())
    assert isinstance(missing.state, st.Printing) and missing.state.reprint


def test_recovered_reserve_is_resent_and_an_eligible_answer_waits_for_the_operator() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.RESERVE_PENDING, None, False))
    result = step(st.Starting(), loaded)
    assert result.state == st.Reserving(s.RECOVERED_TX) and fx.ResendReserve(s.TX) in result.effects
    answered = step(result.state, ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert isinstance(answered.state, st.RecoveryDecision)
    assert not any(isinstance(e, fx.PrintSlip) for e in answered.effects)


def test_polls_do_not_open_before_the_set_hour() -> None:
    early = step(st.PollsNotOpen(), ev.OpenPollsRequested(s.AT, s.AT.replace(hour=9)))
    assert early.refusal is not None and early.state == st.PollsNotOpen()
    on_time = step(st.PollsNotOpen(), ev.OpenPollsRequested(s.AT, s.AT.replace(hour=7)))
    assert on_time.state == st.SelfTesting() and fx.RunSelfTest() in on_time.effects


def test_opening_is_self_test_then_zero_report_then_the_center() -> None:
    tested = step(st.SelfTesting(), ev.SelfTestFinished((), ("دوربین: not_found",)))
    assert tested.state == st.PrintingZeroReport()
    assert fx.PrintReport(st.ReportKind.ZERO) in tested.effects
    assert any(isinstance(e, fx.Show) and "دوربین" in e.message for e in tested.effects)
    printed = step(tested.state, ev.ReportPrinted(st.ReportKind.ZERO))
    assert printed.state == st.Opening() and fx.SendOpen() in printed.effects
    opened = step(printed.state, ev.OpenAcknowledged(s.AT, s.AT + timedelta(seconds=30)))
    assert opened.state == st.Idle() and fx.SetPolls(st.PollsPhase.OPEN) in opened.effects


@pytest.mark.parametrize(("ahead", "words"), [
    (timedelta(minutes=10, seconds=5), ("۱۰ دقیقه و ۵ ثانیه", "جلوتر")),
    (-timedelta(seconds=121), ("۲ دقیقه و ۱ ثانیه", "عقب‌تر")),
    (timedelta(hours=2, seconds=3), ("۲ ساعت و ۳ ثانیه", "جلوتر")),
])
def test_a_clock_far_from_the_centers_keeps_the_polls_closed_and_says_by_how_much(
    ahead: timedelta, words: tuple[str, str]
) -> None:
    refused = step(st.Opening(), ev.OpenAcknowledged(s.AT, s.AT + ahead))
    assert isinstance(refused.state, st.PollsNotOpen)
    assert all(word in refused.state.notice for word in words), refused.state.notice
    assert fx.Show(refused.state.notice) in refused.effects
    assert fx.Alarm(refused.state.notice) in refused.effects, "the refusal to open must be audited"
    assert not any(isinstance(e, fx.SetPolls) for e in refused.effects)


def test_the_clock_bound_is_inclusive_and_configurable() -> None:
    at_bound = step(st.Opening(), ev.OpenAcknowledged(s.AT, s.AT - ev.CLOCK_TOLERANCE))
    assert at_bound.state == st.Idle()
    strict = step(st.Opening(), ev.OpenAcknowledged(s.AT, s.AT + timedelta(seconds=20), timedelta(seconds=10)))
    assert isinstance(strict.state, st.PollsNotOpen)


def test_after_a_clock_refusal_the_operator_can_try_to_open_again() -> None:
    refused = step(st.Opening(), ev.OpenAcknowledged(s.AT, s.AT + timedelta(hours=1)))
    again = step(refused.state, ev.OpenPollsRequested(s.AT, s.AT.replace(hour=7)))
    assert again.state == st.SelfTesting()


def test_a_failed_self_test_or_zero_report_keeps_the_polls_closed() -> None:
    failed = step(st.SelfTesting(), ev.SelfTestFinished(("چاپگر: no paper",)))
    assert isinstance(failed.state, st.PollsNotOpen) and "چاپگر" in failed.state.notice
    assert not any(isinstance(e, fx.PrintReport | fx.SendOpen) for e in failed.effects)
    unprinted = step(st.PrintingZeroReport(), ev.ReportNotPrinted(st.ReportKind.ZERO, "no paper"))
    assert isinstance(unprinted.state, st.PollsNotOpen)


def test_closing_waits_for_the_closing_time_then_prints_and_sends_the_report() -> None:
    early = step(st.Idle(), ev.ClosePollsRequested(s.AT, s.AT.replace(hour=18)))
    assert early.refusal == "before the closing time" and early.state == st.Idle()
    due = step(st.Idle(), ev.ClosePollsRequested(s.AT, s.AT.replace(hour=7)))
    assert due.state == st.Closing()
    assert fx.SetPolls(st.PollsPhase.CLOSED) in due.effects and fx.SendClose() in due.effects
    assert fx.PrintReport(st.ReportKind.CLOSING) in due.effects
    closed = step(due.state, ev.CloseAcknowledged())
    assert closed.state == st.PollsClosed()
    assert step(closed.state, ev.ReprintClosingReport()).effects == (fx.PrintReport(st.ReportKind.CLOSING),)


def test_an_extension_is_recorded_in_any_state() -> None:
    until = s.AT.replace(hour=22)
    for state in s.STATES:
        result = step(state, ev.ClosingExtended(until))
        assert result.state is state and fx.RecordExtension(until) in result.effects


def test_a_face_mismatch_needs_the_logged_override() -> None:
    waiting = st.AwaitingConfirmation(s.TX, s.CARD)
    assert step(waiting, ev.OperatorConfirmed()).refusal == "the face check has not finished"
    mismatch = step(waiting, ev.FaceChecked(s.TX, st.FaceVerdict.NO_MATCH, 0.84, "")).state
    assert step(mismatch, ev.OperatorConfirmed()).refusal == "a face mismatch needs the override"
    overridden = step(mismatch, ev.OperatorOverrode())
    assert overridden.state == st.CheckingPrinter(s.TX, s.CARD)
    assert fx.Count(fx.Counter.FACE_OVERRIDES) in overridden.effects
    assert any(isinstance(e, fx.Alarm) for e in overridden.effects)
    assert step(mismatch, ev.OperatorRejected()).state == st.Idle()


def test_without_a_face_score_the_operator_still_decides() -> None:
    typed = step(st.Idle(), ev.NationalCodeTyped(s.TX, "0012345679", DocumentKind.BIRTH_CERTIFICATE)).state
    assert isinstance(typed, st.AwaitingConfirmation) and typed.face is st.FaceVerdict.UNAVAILABLE
    assert isinstance(step(typed, ev.OperatorConfirmed()).state, st.CheckingPrinter)
    unavailable = step(st.AwaitingConfirmation(s.TX, s.CARD),
                       ev.FaceChecked(s.TX, st.FaceVerdict.UNAVAILABLE, None, "دوربین: not_found")).state
    assert isinstance(step(unavailable, ev.OperatorConfirmed()).state, st.CheckingPrinter)


def test_card_pulled_before_confirmation_drops_the_document() -> None:
    assert step(st.AwaitingConfirmation(s.TX, s.CARD), ev.CardRemoved()).state == st.Idle()
    typed = step(st.AwaitingConfirmation(s.TX, s.TYPED), ev.CardRemoved())
    assert typed.refusal is not None


def test_a_printer_without_paper_stops_the_voter_before_the_center_is_asked() -> None:
    result = step(st.CheckingPrinter(s.TX, s.CARD), ev.PrinterChecked(s.TX, False, "کاغذ تمام شده"))
    assert isinstance(result.state, st.PrinterNotReady)
    assert not any(isinstance(e, fx.SendReserve) for e in result.effects)
    again = step(result.state, ev.OperatorRetry())
    assert again.state == st.CheckingPrinter(s.TX, s.CARD)


def test_cancel_while_reserving_voids_at_the_center() -> None:
    result = step(st.Reserving(s.SMART_TX), ev.OperatorCancelled())
    assert result.state == st.Idle()
    assert fx.SendVoid(s.TX, VoidReason.OPERATOR_CANCELLED) in result.effects


def test_printing_cannot_be_cancelled() -> None:
    assert step(st.Printing(s.SMART_TX, s.CODE, False), ev.OperatorCancelled()).refusal is not None


def test_the_diagrams_in_the_docs_and_readme_are_generated_from_the_table() -> None:
    assert diagram.DOC_PATH.read_text() == diagram.mermaid(), "run python -m firmware_app.flow.diagram"
    readme = diagram.README_PATH.read_text()
    assert readme == diagram.readme_with_diagram(readme), "run python -m firmware_app.flow.diagram"
