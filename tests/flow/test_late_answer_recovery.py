"""A late answer held in the journal when the terminal dies: the restart asks print or void, never prints."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow.effects import Show
from firmware_app.flow.notices import Notice, Say
from firmware_app.flow.step import Step, step
from firmware_app.runtime.journaling import PrintSlipJob, journal_effect
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.slip import SlipContent
from firmware_app.store.journal import Journal
from hal.buttons import ButtonEvent
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import RequestKind, ReserveOutcome
from protocol.seal import generate_sealing_key, generate_signing_key

CODE = new_inquiry_code()
ELIGIBLE = ev.ReserveAnswered(s.TX, dataclasses.replace(s.answer(ReserveOutcome.ELIGIBLE), inquiry_code=CODE))


class _Terminal:
    """The flow and its journal as the event loop drives them: journal every effect in one transaction, then
    keep a record of what the shell would have done (the notices shown, the slips printed)."""

    def __init__(self, path: Path) -> None:
        self.journal = Journal(path)
        self.settings = RuntimeSettings(
            identity=TerminalIdentity("T-0001", "B-0001", "D01"), training=False,
            center_signing_key=generate_signing_key(), center_sealing_key=generate_sealing_key(),
            terminal_signing_key=generate_signing_key(), voter_key=b"k" * 32, software_version="test",
            software_hash="0" * 64, config_hash="0" * 64, opens_at=s.DAY.opens_at, closes_at=s.DAY.closes_at,
            deadlines={kind: 1.0 for kind in ev.DeadlineKind},
        )
        self.state: st.State = st.Starting()
        self.shown: list[Notice] = []
        self.printed: list[SlipContent] = []

    def start(self) -> Step[st.State]:
        settings = self.settings
        day = st.PollsDay(settings.opens_at, self.journal.closing_time() or settings.closes_at,
                          settings.closes_at + settings.longest_extension, election=s.DAY.election)
        return self.take(ev.JournalLoaded(self.journal.polls_phase(), self.journal.open_foreground(), day))

    def take(self, event: ev.Event) -> Step[st.State]:
        result = step(self.state, event)
        with self.journal.atomic():
            actions = [journal_effect(effect, self.journal, self.settings, s.AT) for effect in result.effects]
        self.state = result.state
        for action in actions:
            match action:
                case Show(notice=notice):
                    self.shown.append(notice)
                case PrintSlipJob(slip=slip):
                    self.printed.append(slip)
        return result


@pytest.mark.parametrize("button", [ButtonEvent.CONFIRM, ButtonEvent.REJECT, ButtonEvent.CANCEL])
def test_a_late_answer_held_at_a_crash_recovers_to_print_or_void(tmp_path: Path, button: ButtonEvent) -> None:
    path = tmp_path / "journal.db"
    before = _Terminal(path)
    with before.journal.atomic():
        before.journal.set_polls(st.PollsPhase.OPEN)
    before.start()
    for event in (ev.CardInserted(), ev.DocumentPresented(s.TX, s.CARD),
                  ev.FaceChecked(s.TX, st.FaceVerdict.MATCH, 0.3), ev.OperatorConfirmed(),
                  ev.PrinterChecked(s.TX, s.READY), ev.DeadlineExpired(s.TX, ev.DeadlineKind.RESERVE)):
        before.take(event)
    late = before.take(ELIGIBLE)
    assert late.state == st.AnsweredLate(s.SMART_TX, CODE, day=s.DAY)
    record = before.journal.transaction(s.TX)
    assert record is not None and record.stage is ev.TxStage.ELIGIBLE and record.inquiry_code == CODE
    assert before.printed == []
    before.journal.close()  # the power goes: nothing of the loop's memory survives, only the journal

    after = _Terminal(path)
    recovered = after.start()
    assert recovered.state == st.RecoveryDecision(s.RECOVERED_TX, CODE, st.RecoveryQuestion.PRINT_OR_VOID,
                                                  reprint=False, day=s.DAY)
    assert after.shown == [Say.RECOVERY_PRINT_OR_VOID]
    assert after.printed == [], "the restart printed by itself"
    answered = after.take(ev.ButtonPressed(button, s.AT))
    record = after.journal.transaction(s.TX)
    assert record is not None
    if button is ButtonEvent.CONFIRM:
        assert isinstance(answered.state, st.Printing) and record.stage is ev.TxStage.PRINTING
        assert [slip.inquiry_code for slip in after.printed] == [CODE], "the same code, printed once"
        assert after.journal.outbox_entry(s.TX, RequestKind.COMMIT) is None, "nothing committed before the slip"
    else:
        assert answered.state == st.Idle(day=s.DAY) and record.stage is ev.TxStage.VOID_PENDING
        assert after.journal.outbox_entry(s.TX, RequestKind.VOID) is not None, "the void goes to the center"
        assert after.printed == []


def test_an_extension_journaled_before_a_crash_is_the_closing_time_after_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    before = _Terminal(path)
    with before.journal.atomic():
        before.journal.set_polls(st.PollsPhase.OPEN)
    before.start()
    until = s.DAY.closes_at + timedelta(hours=1)
    before.take(ev.ClosingExtended(until))
    before.journal.close()

    after = _Terminal(path)
    recovered = after.start()
    assert recovered.state == st.Idle(day=dataclasses.replace(s.DAY, closes_at=until))
    assert after.take(ev.ClockTicked(s.DAY.closes_at)).state == recovered.state, "closed at the old hour"
