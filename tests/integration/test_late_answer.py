"""A center answer that reaches the terminal after its deadline, through the real broker and center: nothing prints
by itself; the operator prints it (same inquiry code) or voids it (the voter is freed), also after a restart."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from center.eligibility import VoterRecord
from center.registry import ReservationState
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.effects import PrintSlip
from firmware_app.flow.events import OperatorVoid, ReserveAnswered, TxStage
from firmware_app.flow.notices import Say
from harness.district import VirtualDistrict
from harness.panel import OperatorPanel
from harness.terminal import TerminalPlan, VirtualTerminal
from provisioning.installed import Installation
from tests.integration.conftest import Voters, card_of


class HeldAnswers:
    """The center answers at once, but its answers reach the terminal only when the test lets them go: from the
    terminal's side, an overloaded center or a slow link."""

    def __init__(self, terminal: VirtualTerminal) -> None:
        self._link = terminal.link
        self._deliver = terminal.link._on_answer
        self._held: list[bytes] = []
        self._lock = threading.Lock()
        terminal.link._on_answer = self._hold

    def _hold(self, payload: bytes) -> None:
        with self._lock:
            self._held.append(payload)

    def count(self) -> int:
        with self._lock:
            return len(self._held)

    def release(self) -> None:
        with self._lock:
            self._link._on_answer = self._deliver
            held, self._held = self._held, []
        for payload in held:
            self._deliver(payload)


Paneled = tuple[VirtualTerminal, OperatorPanel]


@pytest.fixture
def start_terminal(district: VirtualDistrict, tmp_path: Path) -> Iterator[Callable[[str], Paneled]]:
    """A terminal with the GPIO panel (its buttons are the operator's events). The same name again stops the
    running one and starts it afresh on the same journal and printer log: a restart."""
    installations: dict[str, Installation] = {}
    running: list[Paneled] = []

    def stop() -> None:
        for terminal, panel in running:
            terminal.stop()
            panel.close()
        running.clear()

    def start(name: str) -> Paneled:
        stop()
        if name not in installations:
            installations[name] = district.provision(name, f"B-{name}", tmp_path / name / "provisioning")
        plan = TerminalPlan(installations[name], tmp_path / name, district.broker.address)
        panel = OperatorPanel()
        terminal = VirtualTerminal(plan, buttons=panel.buttons, indicators=panel.indicators)
        running.append((terminal, panel))
        terminal.start()
        return terminal, panel

    yield start
    stop()


def _late_eligible(terminal: VirtualTerminal, panel: OperatorPanel, voter: VoterRecord) -> st.AnsweredLate:
    """The voter confirmed on the panel; the center's ELIGIBLE answer comes after the screen said no slip."""
    held = HeldAnswers(terminal)
    terminal.reader.insert(card_of(voter))
    terminal.wait_for(st.AwaitingConfirmation)
    panel.confirm()
    terminal.wait_for(st.NoAnswer)
    assert "تعرفه صادر نمی‌شود" in terminal.display.messages[-1]
    terminal.wait_until(lambda: held.count() == 1)
    held.release()
    late = terminal.wait_for(st.AnsweredLate)
    assert isinstance(late, st.AnsweredLate)
    assert terminal.display.messages[-1] == texts.SAID[Say.ANSWERED_LATE], "the operator is asked to print or void"
    return late


def _nothing_printed_or_committed(district: VirtualDistrict, terminal: VirtualTerminal, code: str) -> None:
    assert terminal.slips() == [], "the late answer printed a slip by itself"
    assert not any(isinstance(e, PrintSlip) for _, _, step in terminal.history for e in step.effects)
    assert district.reservations_of(terminal.plan.identity.terminal) == [(code, ReservationState.RESERVED)]
    [record] = terminal.transactions()
    assert record.stage is TxStage.ELIGIBLE and record.inquiry_code == code


def _printed_and_committed(district: VirtualDistrict, terminal: VirtualTerminal, code: str) -> None:
    committing = terminal.wait_for(st.Committing)
    assert isinstance(committing, st.Committing) and committing.inquiry_code == code
    terminal.wait_for(st.Idle)
    assert [job.qr for job in terminal.slips()] == [(code,)]
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.ISSUED])
    assert district.reservations_of(terminal.plan.identity.terminal) == [(code, ReservationState.COMMITTED)]


def test_a_late_eligible_answer_prints_nothing_until_confirm_prints_it_with_the_same_code(
    district: VirtualDistrict, voters: Voters, start_terminal: Callable[[str], Paneled]
) -> None:
    terminal, panel = start_terminal("T-LATE-P")
    terminal.open_polls()
    late = _late_eligible(terminal, panel, voters.eligible())
    _nothing_printed_or_committed(district, terminal, late.inquiry_code)
    panel.confirm()
    _printed_and_committed(district, terminal, late.inquiry_code)


def test_reject_voids_a_late_eligible_answer_and_the_voter_can_be_reserved_again(
    district: VirtualDistrict, voters: Voters, start_terminal: Callable[[str], Paneled]
) -> None:
    terminal, panel = start_terminal("T-LATE-V")
    terminal.open_polls()
    voter = voters.eligible()
    late = _late_eligible(terminal, panel, voter)
    _nothing_printed_or_committed(district, terminal, late.inquiry_code)
    panel.reject()
    terminal.wait_for(st.Idle)
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.VOIDED])
    assert district.reservations_of("T-LATE-V") == [(late.inquiry_code, ReservationState.VOIDED)]
    assert terminal.slips() == []
    terminal.reader.insert(card_of(voter))
    terminal.wait_for(st.AwaitingConfirmation)
    panel.confirm()
    again = terminal.wait_for(st.Committing)
    assert isinstance(again, st.Committing) and again.inquiry_code != late.inquiry_code
    terminal.wait_for(st.Idle)
    assert [job.qr for job in terminal.slips()] == [(again.inquiry_code,)]


def test_a_late_eligible_answer_held_at_a_restart_asks_print_or_void_again(
    district: VirtualDistrict, voters: Voters, start_terminal: Callable[[str], Paneled]
) -> None:
    terminal, panel = start_terminal("T-LATE-R")
    terminal.open_polls()
    late = _late_eligible(terminal, panel, voters.eligible())
    terminal, panel = start_terminal("T-LATE-R")
    asked = terminal.wait_for(st.RecoveryDecision)
    assert isinstance(asked, st.RecoveryDecision) and asked.question is st.RecoveryQuestion.PRINT_OR_VOID
    assert asked.inquiry_code == late.inquiry_code
    assert terminal.display.messages[-1] == texts.SAID[Say.RECOVERY_PRINT_OR_VOID]
    _nothing_printed_or_committed(district, terminal, late.inquiry_code)
    panel.confirm()
    _printed_and_committed(district, terminal, late.inquiry_code)


def test_a_late_answer_to_a_reserve_the_operator_voided_leaves_the_void_standing(
    district: VirtualDistrict, voters: Voters, start_terminal: Callable[[str], Paneled]
) -> None:
    terminal, panel = start_terminal("T-LATE-X")
    terminal.open_polls()
    held = HeldAnswers(terminal)
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    panel.confirm()
    terminal.wait_for(st.NoAnswer)
    terminal.act(OperatorVoid())
    terminal.wait_until(lambda: held.count() == 2)  # the reserve's ELIGIBLE, then the void's answer
    held.release()
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.VOIDED])
    assert isinstance(terminal.state, st.Idle) and terminal.slips() == []
    assert [result.refusal is not None for _, event, result in terminal.history
            if isinstance(event, ReserveAnswered)] == [True], "the late answer must be refused"
    [(_, state)] = district.reservations_of("T-LATE-X")
    assert state is ReservationState.VOIDED
