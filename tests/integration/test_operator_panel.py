"""The operator's GPIO panel on gpiozero's MockFactory, wired to a real terminal: buttons drive the flow,
lamps follow it, the tamper switch is audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_app.flow import states as st
from harness.district import VirtualDistrict
from harness.panel import OperatorPanel
from harness.terminal import TerminalPlan, VirtualTerminal
from tests.integration.conftest import Voters, card_of


@pytest.fixture
def paneled(district: VirtualDistrict, tmp_path: Path) -> Iterator[tuple[VirtualTerminal, OperatorPanel]]:
    installation = district.provision("T-PANEL", "B-PANEL", tmp_path / "provisioning")
    panel = OperatorPanel()
    terminal = VirtualTerminal(TerminalPlan(installation, tmp_path / "T-PANEL", district.broker.address),
                               buttons=panel.buttons, indicators=panel.indicators)
    terminal.start()
    terminal.open_polls()
    yield terminal, panel
    terminal.stop()
    panel.close()


def _lamp(panel: OperatorPanel, pin: int) -> bool:
    return bool(panel.factory.pin(pin).state)


def test_buttons_confirm_and_reject_and_the_lamps_follow(
    paneled: tuple[VirtualTerminal, OperatorPanel], voters: Voters
) -> None:
    terminal, panel = paneled
    pins = panel.pins
    assert _lamp(panel, pins.ready_lamp) and not _lamp(panel, pins.busy_lamp)
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    assert _lamp(panel, pins.busy_lamp) and not _lamp(panel, pins.ready_lamp)
    panel.reject()
    terminal.wait_for(st.Idle)
    assert terminal.slips() == [] and _lamp(panel, pins.ready_lamp)
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    panel.confirm()
    terminal.wait_for(st.Committing)
    terminal.wait_for(st.Idle)
    assert len(terminal.slips()) == 1 and _lamp(panel, pins.ready_lamp)


def test_opening_the_case_is_an_audited_alarm(paneled: tuple[VirtualTerminal, OperatorPanel]) -> None:
    terminal, panel = paneled
    panel.open_case()
    terminal.wait_until(lambda: any(e.kind == "alarm" and json.loads(e.detail)["alarm"] == "tamper"
                                    for e in terminal.evidence().audit))
    assert isinstance(terminal.state, st.Idle), "a tamper alarm changes no state; an official looks at it"
