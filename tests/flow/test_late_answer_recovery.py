"""A late answer held in the journal when the terminal dies: the restart asks print or void, never prints."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from firmware_app.flow import effects as fx
from firmware_app.flow import events as ev
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.step import Step, step
from firmware_app.runtime.effects import EffectRunner
from firmware_app.runtime.loop import _BUTTONS
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.slip import SlipContent
from firmware_app.store.journal import Journal
from hal.buttons import ButtonEvent
from harness.fakes import RecordingDisplay
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import CloseCounts, RequestKind, ReserveOutcome
from protocol.seal import generate_sealing_key, generate_signing_key
from tests.flow import samples as s

CODE = new_inquiry_code()
ELIGIBLE = ev.ReserveAnswered(s.TX, dataclasses.replace(s.answer(ReserveOutcome.ELIGIBLE), inquiry_code=CODE))


class _Published:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def publish_request(self, payload: bytes) -> bool:
        self.payloads.append(payload)
        return True


class _Shell:
    """The device side of the runtime, reduced to a record of what it was asked to do."""

    def __init__(self) -> None:
        self.printed: list[SlipContent] = []

    def check_printer(self, tx_id: str) -> None: ...

    def check_face(self, tx_id: str, photo: bytes) -> None: ...

    def run_self_test(self) -> None: ...

    def print_slip(self, tx_id: str, slip: SlipContent) -> None:
        self.printed.append(slip)

    def print_report(self, kind: st.ReportKind, counts: CloseCounts, at: datetime) -> None: ...

    def extend_to(self, until: datetime) -> None: ...

    def start_deadline(self, effect: fx.StartDeadline) -> None: ...

    def indicate(self, signal: fx.Signal) -> None: ...


class _Terminal:
    """The flow and its journal as the event loop drives them: journal every effect in one transaction, then act."""

    def __init__(self, path: Path) -> None:
        self.journal = Journal(path)
        self.shell = _Shell()
        self.display = RecordingDisplay()
        settings = RuntimeSettings(
            identity=TerminalIdentity("T-0001", "B-0001", "D01"), training=False,
            center_signing_key=generate_signing_key(), center_sealing_key=generate_sealing_key(),
            terminal_signing_key=generate_signing_key(), voter_key=b"k" * 32, software_version="test",
            software_hash="0" * 64, config_hash="0" * 64, opens_at=s.AT, closes_at=s.AT + timedelta(hours=10),
            deadlines={kind: 1.0 for kind in ev.DeadlineKind},
        )
        self._runner = EffectRunner(settings, self.journal, _Published(), self.display, self.shell)
        self.state: st.State = st.Starting()

    def start(self) -> Step:
        return self.take(ev.JournalLoaded(self.journal.polls_phase(), self.journal.open_foreground()))

    def take(self, event: ev.Event) -> Step:
        result = step(self.state, event)
        with self.journal.atomic():
            actions = [self._runner.journal(effect, s.AT) for effect in result.effects]
        self.state = result.state
        for action in actions:
            if action is not None:
                action()
        return result


@pytest.mark.parametrize("button", [ButtonEvent.CONFIRM, ButtonEvent.REJECT, ButtonEvent.CANCEL])
def test_a_late_answer_held_at_a_crash_recovers_to_print_or_void(tmp_path: Path, button: ButtonEvent) -> None:
    path = tmp_path / "journal.db"
    before = _Terminal(path)
    with before.journal.atomic():
        before.journal.set_polls(st.PollsPhase.OPEN)
    before.start()
    for event in (ev.DocumentPresented(s.TX, s.CARD), ev.FaceChecked(s.TX, st.FaceVerdict.MATCH, 0.3, ""),
                  ev.OperatorConfirmed(), ev.PrinterChecked(s.TX, True, "ready"),
                  ev.DeadlineExpired(s.TX, ev.DeadlineKind.RESERVE)):
        before.take(event)
    late = before.take(ELIGIBLE)
    assert late.state == st.AnsweredLate(s.SMART_TX, CODE)
    record = before.journal.transaction(s.TX)
    assert record is not None and record.stage is ev.TxStage.ELIGIBLE and record.inquiry_code == CODE
    assert before.shell.printed == []
    before.journal.close()  # the power goes: nothing of the loop's memory survives, only the journal

    after = _Terminal(path)
    recovered = after.start()
    assert recovered.state == st.RecoveryDecision(s.RECOVERED_TX, CODE, st.RecoveryQuestion.PRINT_OR_VOID, False)
    assert after.display.messages == [texts.RECOVERY_PRINT_OR_VOID]
    assert after.shell.printed == [], "the restart printed by itself"
    answered = after.take(_BUTTONS[button]())
    record = after.journal.transaction(s.TX)
    assert record is not None
    if button is ButtonEvent.CONFIRM:
        assert isinstance(answered.state, st.Printing) and record.stage is ev.TxStage.PRINTING
        assert [slip.inquiry_code for slip in after.shell.printed] == [CODE], "the same code, printed once"
        assert after.journal.outbox_entry(s.TX, RequestKind.COMMIT) is None, "nothing committed before the slip"
    else:
        assert answered.state == st.Idle() and record.stage is ev.TxStage.VOID_PENDING
        assert after.journal.outbox_entry(s.TX, RequestKind.VOID) is not None, "the void goes to the center"
        assert after.shell.printed == []
