"""The minutes after the polls close, in the pure flow: two officials' entries, the mismatch, the refusals, then the
minutes journaled, printed, sent and acknowledged; never replaced, reprintable, recovered from the journal."""

from __future__ import annotations

import dataclasses

import pytest

from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.double_entry import EntriesDiffer, MinutesEntry, SameOfficial
from firmware_app.flow.notices import InstructionsArrived, MinutesReportFailed, Say
from firmware_app.flow.step import step
from hal.buttons import ButtonEvent
from hal.indicators import Signal
from protocol.messages import MinutesOutcome
from protocol.minutes import MinutesFigures, MinutesProblem, MinutesRefused
from tests.flow.pairs import PAIRS, meant, name

DAY = s.DAY
CLOSED = st.PollsClosed(day=DAY)
HELD = st.EnteringMinutes(MinutesEntry("head", s.FIGURES), day=DAY)
AGREED = (fx.RecordMinutes(s.FIGURES, ("head", "operator")), fx.PrintMinutes(reprint=False), fx.SendMinutes(),
          fx.StartDeadline("minutes", ev.DeadlineKind.MINUTES), fx.Show(Say.MINUTES_AGREED))
RECORDED_STATES: list[st.State] = [st.SendingMinutes(day=DAY), st.SendingMinutes(pending=True, day=DAY), st.MinutesSent(day=DAY),
                   st.MinutesConflict(day=DAY)]


def entered(official: str, figures: MinutesFigures = s.FIGURES) -> ev.MinutesEntered:
    return ev.MinutesEntered(official, figures)


def test_two_officials_entering_the_same_figures_record_print_and_send_the_minutes() -> None:
    first = step(CLOSED, entered("head"))
    assert first.state == HELD and first.effects == (fx.Show(Say.MINUTES_FIRST_HELD),)
    second = step(first.state, entered("operator"))
    assert second.state == st.SendingMinutes(day=DAY)
    assert second.effects == AGREED, "journal the minutes, print them, send them, wait for the district"
    answered = step(second.state, ev.MinutesAnswered(MinutesOutcome.RECORDED))
    assert answered.state == st.MinutesSent(day=DAY)
    assert answered.effects == (fx.CancelDeadline(), fx.RecordMinutesAnswer(MinutesOutcome.RECORDED),
                                fx.Show(Say.MINUTES_SENT), fx.Indicate(Signal.READY))
    assert step(answered.state, ev.ReprintMinutes()).effects == (fx.PrintMinutes(reprint=True),)


def test_the_held_first_entry_is_never_shown() -> None:
    """Nothing the step shows carries the first official's figures; the second official enters blind."""
    result = step(CLOSED, entered("head"))
    shown = [e.notice for e in result.effects if isinstance(e, fx.Show)]
    assert shown == [Say.MINUTES_FIRST_HELD]
    assert "60" not in texts.render(Say.MINUTES_FIRST_HELD) and "۶۰" not in texts.render(Say.MINUTES_FIRST_HELD)


def test_the_same_official_cannot_make_the_second_entry_and_the_first_stays_held() -> None:
    result = step(HELD, entered("head"))
    assert result.refusal is not None and result.state is HELD
    assert result.effects == (fx.Show(SameOfficial("head")),)
    assert "head" in texts.render(SameOfficial("head"))


def test_a_typo_discards_both_entries_and_names_the_differing_field() -> None:
    result = step(HELD, entered("operator", s.TYPO))
    assert result.state == st.EnteringMinutes(None, ("counts.PRES.votes.P1",), day=DAY)
    assert result.effects == (fx.Show(EntriesDiffer(("counts.PRES.votes.P1",))),)
    said = texts.render(EntriesDiffer(("counts.PRES.votes.P1",)))
    assert "آرای نامزد P1" in said and "هیچ‌یک نگه داشته نشد" in said
    again = step(result.state, entered("operator", s.TYPO))
    assert again.state == st.EnteringMinutes(MinutesEntry("operator", s.TYPO), ("counts.PRES.votes.P1",), day=DAY), (
        "the contested fields stay on the screen until the next comparison")
    agreed = step(again.state, entered("head", s.TYPO))
    assert isinstance(agreed.state, st.SendingMinutes)
    assert fx.RecordMinutes(s.TYPO, ("operator", "head")) in agreed.effects


def test_figures_that_are_not_minutes_of_the_bundle_are_refused_with_the_reason() -> None:
    for state in (CLOSED, HELD):
        result = step(state, entered("operator", s.UNFIT))
        assert result.refusal is not None and result.state is state, "a held first entry stays held"
        assert result.effects == (fx.Show(MinutesRefused(MinutesProblem.NO_SEALS, "seals")),)
    assert "پلمب" in texts.render(MinutesRefused(MinutesProblem.NO_SEALS, "seals"))
    other = dataclasses.replace(s.FIGURES, counts=(dataclasses.replace(s.FIGURES.counts[0], election="CNCL"),))
    refused = step(CLOSED, entered("head", other))
    assert refused.effects == (fx.Show(MinutesRefused(MinutesProblem.ELECTIONS_DIFFER, "counts")),)


def test_no_minutes_without_an_election_bundle_or_by_a_name_that_is_no_officials() -> None:
    bare = st.PollsClosed(day=s.BARE_DAY)
    result = step(bare, entered("head"))
    assert result.refusal is not None and result.effects == (fx.Show(Say.NO_ELECTION),)
    named = step(CLOSED, ev.MinutesEntered("Not An Official", s.FIGURES))
    assert named.refusal is not None and named.effects == (fx.Show(Say.BAD_OFFICIAL),)


@pytest.mark.parametrize("state", [x for x in s.STATES if not isinstance(x, st.Starting | st.AfterClose)], ids=name)
def test_minutes_before_the_polls_are_closed_are_refused(state: st.State) -> None:
    result = step(state, entered("head"))
    assert result.refusal is not None and result.state is state
    assert result.effects == (fx.Show(Say.MINUTES_AFTER_CLOSE),)


@pytest.mark.parametrize("state", RECORDED_STATES, ids=name)
def test_recorded_minutes_are_never_replaced_but_can_be_reprinted(state: st.State) -> None:
    for event in (entered("head"), entered("operator", s.TYPO)):
        result = step(state, event)
        assert result.refusal is not None and result.state is state
        assert result.effects == (fx.Show(Say.MINUTES_ALREADY_RECORDED),)
    assert step(state, ev.ReprintMinutes()).effects == (fx.PrintMinutes(reprint=True),)
    assert step(state, ev.ButtonPressed(ButtonEvent.CONFIRM, s.AT)).effects == (fx.PrintMinutes(reprint=True),)


def test_there_is_nothing_to_reprint_before_the_minutes_are_recorded() -> None:
    for state in (CLOSED, HELD):
        result = step(state, ev.ReprintMinutes())
        assert result.refusal is not None and result.effects == ()


def test_no_answer_by_the_deadline_keeps_the_minutes_pending_and_a_late_answer_still_settles_them() -> None:
    """The runtime sends the journaled request again on every tick until it is answered (as the close's)."""
    waiting = st.SendingMinutes(day=DAY)
    late = step(waiting, ev.DeadlineExpired("minutes", ev.DeadlineKind.MINUTES))
    assert late.state == st.SendingMinutes(pending=True, day=DAY)
    assert late.effects == (fx.Show(Say.MINUTES_PENDING),), "nothing is journaled or sent again by the flow"
    assert step(late.state, ev.DeadlineExpired("minutes", ev.DeadlineKind.MINUTES)).refusal is not None
    answered = step(late.state, ev.MinutesAnswered(MinutesOutcome.RECORDED))
    assert answered.state == st.MinutesSent(day=DAY)


def test_a_conflict_tells_the_officials_and_raises_an_alarm() -> None:
    result = step(st.SendingMinutes(pending=True, day=DAY), ev.MinutesAnswered(MinutesOutcome.CONFLICT))
    assert result.state == st.MinutesConflict(day=DAY)
    assert fx.RecordMinutesAnswer(MinutesOutcome.CONFLICT) in result.effects
    assert any(isinstance(e, fx.Alarm) and e.kind is fx.AlarmKind.MINUTES_CONFLICT for e in result.effects)
    assert fx.Show(Say.MINUTES_CONFLICT) in result.effects and fx.CancelDeadline() in result.effects
    assert "دیگری از این دستگاه" in texts.render(Say.MINUTES_CONFLICT)


def test_cancel_discards_a_held_first_entry() -> None:
    result = step(HELD, ev.ButtonPressed(ButtonEvent.CANCEL, s.AT))
    assert result.state == st.EnteringMinutes(day=DAY) and result.effects == (fx.Show(Say.MINUTES_ENTRY_DISCARDED),)
    assert step(result.state, ev.OperatorCancelled()).refusal is not None


def test_the_center_count_is_journaled_with_the_close_acknowledgement_even_a_late_one() -> None:
    closed = step(st.Closing(day=DAY), ev.CloseAcknowledged(250))
    assert closed.state == CLOSED and fx.RecordBranchCommitted(250) in closed.effects
    unacknowledged = step(st.Closing(day=DAY), ev.DeadlineExpired("polls", ev.DeadlineKind.CLOSE))
    assert unacknowledged.state == CLOSED
    assert not any(isinstance(e, fx.RecordBranchCommitted) for e in unacknowledged.effects), (
        "no count from the center: the minutes' check against it is not made")
    for state in (CLOSED, HELD, *RECORDED_STATES):
        late = step(state, ev.CloseAcknowledged(251))
        assert late.state is state and late.effects == (fx.RecordBranchCommitted(251), fx.Show(Say.CLOSE_ACKNOWLEDGED))


def test_the_minutes_print_result_is_shown_and_a_failure_asks_for_the_reprint() -> None:
    sending = st.SendingMinutes(day=DAY)
    assert step(sending, ev.ReportPrinted(st.ReportKind.MINUTES)).effects == (fx.Show(Say.MINUTES_PRINTED),)
    failed = step(sending, ev.ReportNotPrinted(st.ReportKind.MINUTES, s.NO_PAPER))
    assert failed.effects == (fx.Show(MinutesReportFailed(s.NO_PAPER)), fx.Indicate(Signal.FAULT))
    assert "چاپ مجدد صورتجلسه" in texts.render(MinutesReportFailed(s.NO_PAPER))
    assert step(CLOSED, ev.ReportPrinted(st.ReportKind.MINUTES)).refusal is not None
    assert step(HELD, ev.ReportPrinted(st.ReportKind.CLOSING)).effects == (fx.Show(Say.CLOSING_REPORT_PRINTED),)


@pytest.mark.parametrize(("stage", "expected"), [
    (None, st.PollsClosed(day=DAY)), (ev.MinutesStage.SENT, st.SendingMinutes(day=DAY)),
    (ev.MinutesStage.RECORDED, st.MinutesSent(day=DAY)), (ev.MinutesStage.CONFLICT, st.MinutesConflict(day=DAY)),
], ids=["none", "sent", "recorded", "conflict"])
def test_a_restart_finds_the_minutes_where_the_journal_left_them(stage: ev.MinutesStage | None,
                                                                 expected: st.State) -> None:
    result = step(st.Starting(), ev.JournalLoaded(st.PollsPhase.CLOSED, None, DAY, stage))
    assert result.state == expected
    deadlines = [e for e in result.effects if isinstance(e, fx.StartDeadline)]
    assert deadlines == ([fx.StartDeadline("minutes", ev.DeadlineKind.MINUTES)] if stage is ev.MinutesStage.SENT
                         else []), "sent minutes wait for the district again"
    assert not any(isinstance(e, fx.RecordMinutes | fx.SendMinutes | fx.PrintMinutes) for e in result.effects), (
        "a restart neither records, prints nor sends the minutes again (the outbox resends the same request)")


def test_minutes_are_recorded_only_by_a_second_official_agreeing_with_the_first() -> None:
    problems = []
    for state, event in PAIRS:
        result = step(state, event)
        recorded = [e for e in result.effects if isinstance(e, fx.RecordMinutes)]
        if not recorded:
            continue
        taken = meant(state, event)
        ok = (isinstance(state, st.EnteringMinutes) and state.first is not None
              and isinstance(taken, ev.MinutesEntered) and taken.official != state.first.official
              and taken.figures == state.first.figures
              and recorded == [fx.RecordMinutes(taken.figures, (state.first.official, taken.official))]
              and result.effects == (*recorded, *AGREED[1:]))
        if not ok:
            problems.append(f"{name(state)} + {name(event)}: {result.effects}")
    assert not problems, "\n".join(problems)


def test_instructions_are_kept_when_newer_in_any_state_and_shown() -> None:
    for state in (st.Idle(day=DAY), CLOSED, st.MinutesSent(day=DAY)):
        result = step(state, ev.InstructionsReceived(s.INSTRUCTIONS))
        assert result.state == dataclasses.replace(state, day=s.INSTRUCTED_DAY)
        assert result.effects == (fx.RecordInstructions(s.INSTRUCTIONS),
                                  fx.Show(InstructionsArrived(s.INSTRUCTIONS.title)))
    held = st.EnteringMinutes(day=s.INSTRUCTED_DAY)
    again = step(held, ev.InstructionsReceived(s.INSTRUCTIONS))
    assert again.refusal is not None and again.state is held, "the same instructions again change nothing"
    older = dataclasses.replace(s.INSTRUCTIONS, issued_at=s.INSTRUCTIONS.issued_at.replace(hour=9))
    assert step(held, ev.InstructionsReceived(older)).refusal is not None
    newer = step(held, ev.InstructionsReceived(s.LATER_INSTRUCTIONS))
    assert isinstance(newer.state, st.EnteringMinutes) and newer.state.day.instructions == s.LATER_INSTRUCTIONS
    assert s.INSTRUCTIONS.title in texts.render(InstructionsArrived(s.INSTRUCTIONS.title))
