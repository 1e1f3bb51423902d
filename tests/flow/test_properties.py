"""Properties over every example pair for the decisions the flow took over from the runtime: deadlines, the
closing time, closing by the clock, the card reader and the panel's buttons."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from datetime import timedelta

from firmware_app.flow import buttons
from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow.notices import Say
from firmware_app.flow.step import step
from hal.buttons import ButtonEvent
from tests.flow.pairs import PAIRS, name

WAITING: dict[type[st.State], ev.DeadlineKind] = {
    st.Reserving: ev.DeadlineKind.RESERVE, st.Committing: ev.DeadlineKind.COMMIT,
    st.Opening: ev.DeadlineKind.OPEN, st.Closing: ev.DeadlineKind.CLOSE, st.SendingMinutes: ev.DeadlineKind.MINUTES,
}
"""The states that wait for the center with a deadline running, and the deadline each waits on."""

OPERATOR_ANSWERS = (ev.OperatorConfirmed, ev.OperatorRejected, ev.OperatorCancelled, ev.OperatorDismissed,
                    ev.OperatorRetry, ev.OperatorVoid, ev.SlipCameOut, ev.SlipMissing, ev.OpenPollsRequested)
"""The operator's answers to the flow's questions, which the panel's buttons must be able to give."""

PANEL = (ButtonEvent.CONFIRM, ButtonEvent.REJECT, ButtonEvent.CANCEL)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} pairs break it:\n  " + "\n  ".join(problems[:40])


def _pair(state: st.State, event: ev.Event) -> str:
    return f"{name(state)} + {name(event)}"


# --- 6. the unions and the examples -------------------------------------------------------------------


def _dataclasses_defined_in(module: object) -> set[type]:
    return {value for value in vars(module).values()
            if inspect.isclass(value) and dataclasses.is_dataclass(value) and value.__module__ == getattr(
                module, "__name__", None)}


def test_all_states_and_all_events_are_exactly_the_union_members() -> None:
    assert typing.get_args(st.State) == st.ALL_STATES and len(set(st.ALL_STATES)) == len(st.ALL_STATES)
    assert typing.get_args(ev.Event) == ev.ALL_EVENTS and len(set(ev.ALL_EVENTS)) == len(ev.ALL_EVENTS)
    assert set(typing.get_args(st.DayState)) == set(st.ALL_STATES) - {st.Starting}
    assert _dataclasses_defined_in(st) - {st.PollsDay, st.Tx} == set(st.ALL_STATES), "a state left out of State"
    assert _dataclasses_defined_in(ev) - {ev.OpenTx} == set(ev.ALL_EVENTS), "an event left out of Event"


def test_the_examples_cover_every_state_and_event_type() -> None:
    assert {type(x) for x in s.STATES} == set(st.ALL_STATES)
    assert {type(x) for x in s.EVENTS} == set(ev.ALL_EVENTS)
    assert {e.button for e in s.EVENTS if isinstance(e, ev.ButtonPressed)} == set(ButtonEvent)


# --- 1. deadlines ---------------------------------------------------------------------------------------


def test_leaving_a_waiting_state_other_than_by_its_deadline_cancels_or_replaces_the_deadline() -> None:
    problems = []
    for state, event in PAIRS:
        if type(state) not in WAITING or isinstance(event, ev.DeadlineExpired):
            continue
        result = step(state, event)
        if type(result.state) is type(state):
            continue
        if not any(isinstance(e, fx.CancelDeadline | fx.StartDeadline) for e in result.effects):
            problems.append(f"{_pair(state, event)} -> {name(result.state)} left the deadline running")
    assert not problems, _report(problems)


def test_entering_a_waiting_state_starts_its_deadline() -> None:
    problems = []
    for state, event in PAIRS:
        result = step(state, event)
        kind = WAITING.get(type(result.state))
        if kind is None or type(result.state) is type(state):
            continue
        started = [e for e in result.effects if isinstance(e, fx.StartDeadline)]
        if [e.kind for e in started] != [kind]:
            problems.append(f"{_pair(state, event)} -> {name(result.state)} started {started}, not one {kind.value}")
    assert not problems, _report(problems)


# --- 2. the closing time --------------------------------------------------------------------------------


def test_the_closing_time_never_moves_back_nor_past_the_latest_allowed() -> None:
    problems = []
    for state, event in PAIRS:
        result = step(state, event)
        held = result.state
        if result.refusal is not None or isinstance(held, st.Starting):
            continue
        day = held.day
        if not day.closes_at <= day.latest_close:
            problems.append(f"{_pair(state, event)}: closes {day.closes_at} past {day.latest_close}")
        if isinstance(state, st.Starting):
            continue
        if day.closes_at < state.day.closes_at:
            problems.append(f"{_pair(state, event)}: the closing moved back to {day.closes_at}")
        if (day.opens_at, day.latest_close) != (state.day.opens_at, state.day.latest_close):
            problems.append(f"{_pair(state, event)}: the opening or the latest close changed")
        if day.closes_at != state.day.closes_at and not isinstance(event, ev.ClosingExtended):
            problems.append(f"{_pair(state, event)}: the closing moved without an extension")
    assert not problems, _report(problems)


def test_an_applied_extension_is_always_journaled() -> None:
    problems = []
    for state, event in PAIRS:
        result = step(state, event)
        recorded = [e for e in result.effects if isinstance(e, fx.RecordExtension)]
        if not isinstance(event, ev.ClosingExtended):
            if recorded:
                problems.append(f"{_pair(state, event)} recorded an extension")
            continue
        if result.refusal is not None:
            continue
        assert not isinstance(result.state, st.Starting)
        if recorded != [fx.RecordExtension(event.until)] or result.state.day.closes_at != event.until:
            problems.append(f"{_pair(state, event)}: applied {result.state.day.closes_at}, recorded {recorded}")
    assert not problems, _report(problems)


# --- 3. closing by the clock ----------------------------------------------------------------------------


EXTENDED = dataclasses.replace(s.DAY, closes_at=s.DAY.closes_at + timedelta(hours=2))
TICKS = [ev.ClockTicked(at) for at in (s.AT, s.DAY.closes_at - timedelta(microseconds=1), s.DAY.closes_at,
                                       s.DAY.closes_at + timedelta(hours=1), EXTENDED.closes_at,
                                       s.DAY.latest_close + timedelta(hours=1))]
TICKED_STATES: list[st.State] = [*s.STATES, *(dataclasses.replace(x, day=EXTENDED) for x in s.STATES
                                             if not isinstance(x, st.Starting))]


def test_the_clock_closes_an_open_or_suspended_poll_at_its_hour_and_changes_nothing_else() -> None:
    problems = []
    for state in TICKED_STATES:
        for tick in TICKS:
            result = step(state, tick)
            due = isinstance(state, st.Idle | st.PollsSuspended) and tick.at >= state.day.closes_at
            if due:
                assert isinstance(state, st.Idle | st.PollsSuspended)
                if (result.state != st.Closing(day=state.day) or fx.SendClose() not in result.effects
                        or fx.PrintReport(st.ReportKind.CLOSING) not in result.effects
                        or fx.SetPolls(st.PollsPhase.CLOSED) not in result.effects):
                    problems.append(f"{name(state)} at {tick.at:%H:%M:%S.%f} (due): {result}")
            elif result.state is not state or result.effects:
                problems.append(f"{name(state)} at {tick.at:%H:%M:%S.%f}: changed {result}")
            elif result.refusal is not None and not isinstance(state, st.Starting):
                problems.append(f"{name(state)} at {tick.at:%H:%M:%S.%f}: refused ({result.refusal})")
    assert not problems, _report(problems)


# --- 4. the card reader -------------------------------------------------------------------------------


def test_an_inserted_card_is_read_only_when_idle_and_refused_everywhere_else() -> None:
    problems = []
    for state in s.STATES:
        result = step(state, ev.CardInserted())
        if isinstance(state, st.Idle):
            if result.effects != (fx.ReadCard(),) or result.state is not state or result.refusal is not None:
                problems.append(f"Idle did not read the card: {result}")
        elif result.refusal is None or fx.ReadCard() in result.effects:
            problems.append(f"{name(state)} took the card: {result}")
    assert not problems, _report(problems)


def test_only_an_inserted_card_in_idle_reads_a_card() -> None:
    problems = [_pair(state, event) for state, event in PAIRS
                if fx.ReadCard() in step(state, event).effects
                and not (isinstance(state, st.Idle) and isinstance(event, ev.CardInserted))]
    assert not problems, _report(problems)


def test_a_card_inserted_when_not_idle_tells_the_operator_why_it_was_not_read() -> None:
    """docs/flow.md: "a card inserted when the terminal is not idle is refused and the operator told so"; the
    notice is Say.CARD_NOT_NOW (texts.SAID has its Persian). Starting has no screen yet."""
    problems = [name(state) for state in s.STATES if not isinstance(state, st.Idle | st.Starting)
                and fx.Show(Say.CARD_NOT_NOW) not in step(state, ev.CardInserted()).effects]
    assert not problems, (
        f"FLOW BUG: a CardInserted outside Idle is refused silently (no Show(Say.CARD_NOT_NOW)) in "
        f"{len(problems)} states, e.g. {problems[:6]}: the operator is never told the card was not read")


# --- 5. the panel's buttons ---------------------------------------------------------------------------


def _press(button: ButtonEvent) -> ev.ButtonPressed:
    return ev.ButtonPressed(button, s.AT)


def test_the_buttons_can_answer_every_question_the_flow_asks() -> None:
    """Where the flow accepts an operator's answer, at least one button gives an accepted step (the face
    override, OperatorOverrode, needs the screen and is not among the answers)."""
    problems = []
    for state in s.STATES:
        answers = [e for e in s.EVENTS if isinstance(e, OPERATOR_ANSWERS) and step(state, e).refusal is None]
        if not answers:
            continue
        if all(step(state, _press(button)).refusal is not None for button in PANEL):
            problems.append(f"{name(state)} accepts {[name(e) for e in answers]} but refuses every button")
    assert not problems, _report(problems)


def test_a_button_is_stepped_as_the_event_it_stands_for() -> None:
    problems = []
    for state in s.STATES:
        for button in ButtonEvent:
            pressed = step(state, _press(button))
            meant = buttons.meaning(state, _press(button))
            if meant is None:
                if pressed.refusal is None or pressed.state is not state or pressed.effects:
                    problems.append(f"{name(state)} {button.value}: a press meaning nothing did {pressed}")
            elif pressed != step(state, meant):
                problems.append(f"{name(state)} {button.value}: differs from {name(meant)}")
    assert not problems, _report(problems)


def test_on_the_no_answer_screen_confirm_is_refused() -> None:
    """A retry pressed just before a late answer arrives must never turn into "print" (AnsweredLate prints on
    CONFIRM): in NoAnswer the retry is REJECT and CONFIRM means nothing."""
    for state in (x for x in s.STATES if isinstance(x, st.NoAnswer)):
        result = step(state, _press(ButtonEvent.CONFIRM))
        assert result.refusal is not None and result.state is state and result.effects == (), name(state)


def test_did_the_slip_come_out_is_confirm_for_yes_and_reject_for_no_and_cancel_is_refused() -> None:
    asking = [x for x in s.STATES
              if isinstance(x, st.RecoveryDecision) and x.question is st.RecoveryQuestion.DID_SLIP_COME_OUT]
    assert asking
    for state in asking:
        assert step(state, _press(ButtonEvent.CONFIRM)) == step(state, ev.SlipCameOut())
        assert step(state, _press(ButtonEvent.REJECT)) == step(state, ev.SlipMissing())
        cancel = step(state, _press(ButtonEvent.CANCEL))
        assert cancel.refusal is not None and cancel.state is state and cancel.effects == ()


def test_the_tamper_switch_raises_the_alarm_in_every_state() -> None:
    for state in s.STATES:
        for event in (_press(ButtonEvent.TAMPER), ev.TamperDetected()):
            result = step(state, event)
            assert fx.Alarm(fx.AlarmKind.TAMPER) in result.effects, f"{name(event)} in {name(state)}: {result}"
            assert result.state is state and result.refusal is None
