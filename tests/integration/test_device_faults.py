"""A driver that raises on a real terminal: the voter's screen moves on as for a device that is not ready,
and the journal records the fault as an alarm, so a bug never passes as a paper-out."""

from __future__ import annotations

import collections
import json

import pytest

from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed
from hal.printer import PrinterStatus
from tests.integration.conftest import TerminalFactory, Voters, card_of

pytestmark = pytest.mark.real_peer


def test_a_printer_driver_that_raises_is_not_ready_and_an_audited_fault(
    voters: Voters, make_terminal: TerminalFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = make_terminal(telemetry_interval_s=1.0)
    reporter = terminal.terminal.reporter
    assert reporter is not None

    def broken() -> PrinterStatus:
        raise TypeError("a bug in the printer driver")

    monkeypatch.setattr(terminal.printer, "status", broken)
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.PrinterNotReady)
    reports = reporter.sent
    terminal.wait_until(lambda: reporter.sent >= reports + 3)  # telemetry has asked the printer several times since
    faults = [json.loads(e.detail) for e in terminal.journal.audit_entries() if e.kind == "fault"]
    by_handling = collections.Counter(str(fault["handling"]) for fault in faults)
    assert by_handling == {"printer status": 1, "health check printer": 1}, by_handling
    assert all("TypeError" in str(fault["fault"]) and "a bug" not in str(fault["fault"]) for fault in faults), faults
    assert not terminal.slips()
