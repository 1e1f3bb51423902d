"""A center answer that arrives after the screen said "no slip" never prints by itself (DESIGN.md §2 rule 2)."""

from __future__ import annotations

import dataclasses

import pytest

from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.notices import Duplicate, Ineligible, Notice, Say, SlipNotPrinted
from firmware_app.flow.step import Step, step
from hal.buttons import ButtonEvent
from hal.indicators import Signal
from hal.printer import PrintStage
from protocol.messages import DocumentKind, IneligibleReason, ReserveOutcome, VoidOutcome, VoidReason
from tests.flow.pairs import meant, name

DAY = s.DAY
LATE = [state for state in s.STATES if isinstance(state, st.AnsweredLate)]
NO_ANSWER = [state for state in s.STATES if isinstance(state, st.NoAnswer)]
ANSWERS = [event for event in s.EVENTS if isinstance(event, ev.ReserveAnswered)]
ELIGIBLE = ev.ReserveAnswered(s.TX, s.answer(ReserveOutcome.ELIGIBLE))
OTHER = st.Tx(s.OTHER_TX, DocumentKind.SMART_CARD)

PRINT_EVENTS = {ev.OperatorConfirmed}
VOID_EVENTS = {ev.OperatorVoid, ev.OperatorRejected, ev.OperatorCancelled}
ANY_STATE_EVENTS = {ev.TamperDetected, ev.AnswerUnverifiable, ev.CommitAnswered, ev.VoidAnswered, ev.ClockTicked,
                    ev.OfflineIssueAnswered}
"""Taken in every state with a day without leaving it (`anywhere`); a ClosingExtended also moves the day."""

OPERATOR_EVENTS = {
    ev.OperatorConfirmed, ev.OperatorOverrode, ev.OperatorRejected, ev.OperatorCancelled, ev.OperatorDismissed,
    ev.OperatorRetry, ev.OperatorVoid, ev.SlipCameOut, ev.SlipMissing, ev.DocumentPresented,
    ev.DocumentUnacceptable, ev.NationalCodeTyped, ev.OpenPollsRequested, ev.SuspendRequested,
    ev.ResumeRequested, ev.ClosePollsRequested, ev.ReprintClosingReport, ev.ButtonPressed, ev.CardInserted,
    ev.MinutesEntered, ev.ReprintMinutes,
}
"""What only a person at the terminal causes; everything else (answers, deadlines, devices, the clock) just happens."""

PERMIT_EVENTS = (ev.PermitReceived, ev.PermitActivationReceived, ev.PermitEndReceived)
"""The district's permit messages: taken in any state with a day, they change only the day's permits."""

HAPPENINGS = [event for event in s.EVENTS if type(event) not in OPERATOR_EVENTS]
CHANGES = (fx.PrintSlip, fx.SendCommit, fx.SendVoid, fx.SendReserve, fx.ResendReserve, fx.Count)


def _prints(result: Step[st.State]) -> list[fx.PrintSlip]:
    return [e for e in result.effects if isinstance(e, fx.PrintSlip)]


def _press(button: ButtonEvent) -> ev.ButtonPressed:
    return ev.ButtonPressed(button, s.AT)


# --- the safety property ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", [x for x in s.STATES if not isinstance(x, st.Reserving)], ids=name)
@pytest.mark.parametrize("event", ANSWERS, ids=lambda x: f"{x.answer.outcome.value}-{x.tx_id[0]}")
def test_an_answer_prints_only_while_the_terminal_is_still_asking(state: st.State, event: ev.ReserveAnswered) -> None:
    assert not _prints(step(state, event)), f"an answer arriving in {type(state).__name__} printed by itself"


@pytest.mark.parametrize("tx", [s.SMART_TX, s.RECOVERED_TX], ids=["fresh", "recovered"])
@pytest.mark.parametrize("gave_up", [ev.DeadlineExpired(s.TX, ev.DeadlineKind.RESERVE),
                                     ev.AnswerUnverifiable("bad_signature")], ids=["deadline", "unverifiable"])
def test_no_print_is_ever_emitted_on_an_answer_arriving_after_the_deadline(tx: st.Tx, gave_up: ev.Event) -> None:
    """From the moment the screen says "no slip", whatever answers, deadlines, devices and the clock do: nothing
    prints."""
    said_no_slip = step(st.Reserving(tx, day=DAY), gave_up)
    assert isinstance(said_no_slip.state, st.NoAnswer)
    shown = [texts.render(e.notice) for e in said_no_slip.effects if isinstance(e, fx.Show)]
    assert any("تعرفه صادر نمی‌شود" in said for said in shown), shown
    seen: list[st.State] = []
    frontier: list[st.State] = [said_no_slip.state]
    while frontier:
        state = frontier.pop()
        if state in seen:
            continue
        seen.append(state)
        for event in HAPPENINGS:
            result = step(state, event)
            assert not _prints(result), f"{type(event).__name__} printed in {type(state).__name__} after the deadline"
            frontier.append(result.state)
    assert st.AnsweredLate(tx, s.CODE, day=DAY) in seen, "the walk never reached the late answer"
    assert not any(isinstance(x, st.Printing | st.Committing) for x in seen)


# --- the late ELIGIBLE answer ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", NO_ANSWER, ids=lambda x: f"{x.reason.value}-recovered={x.tx.recovered}")
def test_a_late_eligible_answer_is_journaled_shown_and_waits_for_the_operator(state: st.NoAnswer) -> None:
    result = step(state, ELIGIBLE)
    assert result.state == st.AnsweredLate(state.tx, s.CODE, day=DAY)
    assert result.effects == (fx.RecordStage(s.TX, ev.TxStage.ELIGIBLE, s.CODE), fx.Show(Say.ANSWERED_LATE),
                              fx.Indicate(Signal.FAULT))


def test_a_late_answer_for_another_transaction_is_refused() -> None:
    state = st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY)
    result = step(state, ev.ReserveAnswered(s.OTHER_TX, s.answer(ReserveOutcome.ELIGIBLE)))
    assert result.refusal == "answer for another transaction" and result.state is state and not result.effects


@pytest.mark.parametrize("state", LATE, ids=lambda x: f"recovered={x.tx.recovered}")
def test_print_now_prints_the_same_inquiry_code_and_then_commits_it(state: st.AnsweredLate) -> None:
    printing = step(state, ev.OperatorConfirmed())
    assert printing.state == st.Printing(state.tx, s.CODE, reprint=False, day=DAY)
    assert printing.effects == (fx.PrintSlip(s.TX, s.CODE, DocumentKind.SMART_CARD, False), fx.Show(Say.PRINTING))
    committing = step(printing.state, ev.PrintSucceeded(s.TX))
    assert committing.state == st.Committing(state.tx, s.CODE, day=DAY)
    assert fx.SendCommit(s.TX, s.CODE) in committing.effects and fx.Count(fx.Counter.ISSUED) in committing.effects


def test_print_now_on_a_printer_that_cannot_print_keeps_the_reservation_for_retry_or_void() -> None:
    printing = step(st.AnsweredLate(s.SMART_TX, s.CODE, day=DAY), ev.OperatorConfirmed())
    failed = step(printing.state, ev.PrintUnsuccessful(s.TX, PrintStage.BEFORE, s.NO_PAPER))
    assert failed.state == st.PrintInterrupted(s.SMART_TX, s.CODE, PrintStage.BEFORE, s.NO_PAPER, reprint=False,
                                               day=DAY)
    assert fx.Show(SlipNotPrinted(s.NO_PAPER)) in failed.effects
    assert not any(isinstance(e, fx.SendVoid | fx.SendCommit) for e in failed.effects)
    assert step(failed.state, ev.OperatorRetry()).state == st.Printing(s.SMART_TX, s.CODE, reprint=False, day=DAY)
    assert fx.SendVoid(s.TX, VoidReason.PRINT_FAILED) in step(failed.state, ev.OperatorVoid()).effects


@pytest.mark.parametrize("state", LATE, ids=lambda x: f"recovered={x.tx.recovered}")
@pytest.mark.parametrize("void", [ev.OperatorVoid(), ev.OperatorRejected(), ev.OperatorCancelled()], ids=name)
def test_void_sends_the_void_so_the_center_frees_the_voter(state: st.AnsweredLate, void: ev.Event) -> None:
    result = step(state, void)
    assert result.state == st.Idle(day=DAY)
    assert result.effects == (fx.SendVoid(s.TX, VoidReason.NO_ANSWER), fx.Count(fx.Counter.VOIDED),
                              fx.Show(Say.VOIDED), fx.Indicate(Signal.READY))


def test_a_retry_meant_for_the_no_answer_screen_cannot_print_the_late_answer() -> None:
    result = step(st.AnsweredLate(s.SMART_TX, s.CODE, day=DAY), ev.OperatorRetry())
    assert result.refusal is not None and not result.effects


@pytest.mark.parametrize("state", LATE, ids=lambda x: f"recovered={x.tx.recovered}")
@pytest.mark.parametrize("event", s.EVENTS, ids=name)
def test_each_event_in_the_late_answer_state(state: st.AnsweredLate, event: ev.Event) -> None:
    """Print on CONFIRM, void on the three void events, the any-state events and the district's extension;
    every other event (a button as the event it stands for) is an explicit refusal that changes nothing."""
    result = step(state, event)
    taken = meant(state, event)
    kind = type(taken)
    if kind in PRINT_EVENTS:
        assert isinstance(result.state, st.Printing) and result.state.inquiry_code == s.CODE
    elif kind in VOID_EVENTS:
        assert result.state == st.Idle(day=DAY) and fx.SendVoid(s.TX, VoidReason.NO_ANSWER) in result.effects
    elif kind in ANY_STATE_EVENTS:
        assert result.refusal is None and result.state is state
        assert not any(isinstance(e, CHANGES) for e in result.effects)
    elif isinstance(taken, ev.ClosingExtended) and result.refusal is None:
        assert result.state == dataclasses.replace(state, day=dataclasses.replace(DAY, closes_at=taken.until))
        assert not any(isinstance(e, CHANGES) for e in result.effects)
    elif isinstance(taken, ev.InstructionsReceived):
        instructed = dataclasses.replace(DAY, instructions=taken.instructions)
        assert result.refusal is None and result.state == dataclasses.replace(state, day=instructed)
        assert not any(isinstance(e, CHANGES) for e in result.effects)
    elif isinstance(taken, PERMIT_EVENTS) and result.refusal is None:
        assert not isinstance(result.state, st.Starting)
        permits = result.state.day.permits
        assert result.state == dataclasses.replace(state, day=dataclasses.replace(DAY, permits=permits))
        assert not any(isinstance(e, CHANGES) for e in result.effects)
    else:
        assert result.refusal is not None, f"{kind.__name__} was accepted in AnsweredLate"
        assert result.state is state and all(isinstance(e, fx.Show) for e in result.effects)
    assert isinstance(result.state, st.AnsweredLate | st.Printing | st.Idle), "AnsweredLate leads only to these"


# --- the panel's buttons -----------------------------------------------------------------------------


@pytest.mark.parametrize(("button", "leads_to"), [
    (ButtonEvent.CONFIRM, st.Printing), (ButtonEvent.REJECT, st.Idle), (ButtonEvent.CANCEL, st.Idle),
])
def test_the_buttons_print_or_void_the_late_answer(button: ButtonEvent, leads_to: type[st.State]) -> None:
    result = step(st.AnsweredLate(s.SMART_TX, s.CODE, day=DAY), _press(button))
    assert isinstance(result.state, leads_to)
    assert bool(_prints(result)) is (button is ButtonEvent.CONFIRM)
    assert (fx.SendVoid(s.TX, VoidReason.NO_ANSWER) in result.effects) is (button is not ButtonEvent.CONFIRM)


@pytest.mark.parametrize("state", NO_ANSWER, ids=lambda x: f"{x.reason.value}-recovered={x.tx.recovered}")
def test_on_the_no_answer_screen_confirm_means_nothing_so_it_can_never_become_print(state: st.NoAnswer) -> None:
    confirm = step(state, _press(ButtonEvent.CONFIRM))
    assert confirm.refusal is not None and confirm.state is state and confirm.effects == ()
    retry = step(state, _press(ButtonEvent.REJECT))
    assert isinstance(retry.state, st.Reserving) and fx.ResendReserve(s.TX) in retry.effects


# --- the other late paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "counter", "notice", "words"), [
    (ReserveOutcome.DUPLICATE, fx.Counter.DUPLICATES_REFUSED, Duplicate("B-0102", s.AT), "B-0102"),
    (ReserveOutcome.INELIGIBLE, fx.Counter.INELIGIBLE, Ineligible(IneligibleReason.DECEASED), "فوت"),
])
def test_a_late_duplicate_or_ineligible_is_shown_and_there_is_nothing_to_print(
    outcome: ReserveOutcome, counter: fx.Counter, notice: Notice, words: str
) -> None:
    result = step(st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY),
                  ev.ReserveAnswered(s.TX, s.answer(outcome)))
    assert result.state == st.VoterRefused(s.SMART_TX, outcome, notice, day=DAY)
    assert fx.Show(notice) in result.effects and words in texts.render(notice)
    assert fx.RecordStage(s.TX, ev.TxStage.REFUSED) in result.effects and fx.Count(counter) in result.effects
    assert not _prints(result) and not any(isinstance(e, fx.SendVoid) for e in result.effects)
    assert step(result.state, ev.OperatorDismissed()).state == st.Idle(day=DAY)


def test_a_late_answer_to_a_reserve_the_operator_already_voided_leaves_the_void_standing() -> None:
    voided = step(st.NoAnswer(s.SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY), ev.OperatorVoid())
    assert voided.state == st.Idle(day=DAY) and fx.SendVoid(s.TX, VoidReason.NO_ANSWER) in voided.effects
    next_voter: list[st.State] = [
        st.Idle(day=DAY), st.AwaitingConfirmation(s.OTHER_TX, s.CARD, st.FaceVerdict.MATCH, day=DAY),
        st.CheckingPrinter(s.OTHER_TX, s.CARD, day=DAY), st.Reserving(OTHER, day=DAY),
        st.NoAnswer(OTHER, st.NoAnswerReason.TIMED_OUT, day=DAY),
        st.Printing(OTHER, "987654321", reprint=False, day=DAY),
    ]
    for state in next_voter:
        for event in (answer for answer in ANSWERS if answer.tx_id == s.TX):
            late = step(state, event)
            assert late.refusal is not None and late.state is state and late.effects == (), (
                f"a late {event.answer.outcome.value} changed {type(state).__name__}")
    acknowledged = step(st.Idle(day=DAY), ev.VoidAnswered(s.TX, VoidOutcome.VOIDED))
    assert acknowledged.effects == (fx.RecordStage(s.TX, ev.TxStage.VOIDED),)


# --- recovery: the same question, the same buttons ----------------------------------------------------------


def test_a_late_answer_found_in_the_journal_after_a_restart_asks_print_or_void() -> None:
    loaded = ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(s.TX, DocumentKind.SMART_CARD,
                                                            ev.TxStage.ELIGIBLE, s.CODE, False), DAY)
    result = step(st.Starting(), loaded)
    assert result.state == st.RecoveryDecision(s.RECOVERED_TX, s.CODE, st.RecoveryQuestion.PRINT_OR_VOID,
                                               reprint=False, day=DAY)
    assert fx.Show(Say.RECOVERY_PRINT_OR_VOID) in result.effects
    assert not _prints(result)
    confirmed = step(result.state, _press(ButtonEvent.CONFIRM))
    assert confirmed.state == st.Printing(s.RECOVERED_TX, s.CODE, reprint=False, day=DAY)
    for button in (ButtonEvent.REJECT, ButtonEvent.CANCEL):
        voided = step(result.state, _press(button))
        assert voided.state == st.Idle(day=DAY) and fx.SendVoid(s.TX, VoidReason.VOTER_LEFT) in voided.effects


ASKING = st.RecoveryDecision(s.RECOVERED_TX, s.CODE, st.RecoveryQuestion.DID_SLIP_COME_OUT, reprint=True, day=DAY)


@pytest.mark.parametrize(("button", "answer"), [(ButtonEvent.CONFIRM, ev.SlipCameOut()),
                                                (ButtonEvent.REJECT, ev.SlipMissing())], ids=["yes", "no"])
def test_confirm_says_the_slip_came_out_and_reject_that_it_did_not(button: ButtonEvent, answer: ev.Event) -> None:
    assert step(ASKING, _press(button)) == step(ASKING, answer)


def test_cancel_does_not_answer_whether_a_slip_came_out() -> None:
    result = step(ASKING, _press(ButtonEvent.CANCEL))
    assert result.refusal is not None and result.state is ASKING and result.effects == ()


@pytest.mark.parametrize("event", [ev.OperatorConfirmed(), ev.OperatorRetry(), ev.OperatorRejected(),
                                   ev.OperatorCancelled()], ids=name)
def test_print_or_void_words_do_not_answer_whether_a_slip_came_out(event: ev.Event) -> None:
    result = step(ASKING, event)
    assert result.refusal is not None and result.state is ASKING
    assert result.effects == (fx.Show(Say.SLIP_QUESTION_FIRST),)
