"""Printer failures through the real ESC/POS driver on a pseudo-terminal, checked in the journal and registry."""

from __future__ import annotations

from center.registry import ReservationState
from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed, OperatorRetry, OperatorVoid, TxStage
from hal.printer import PrintStage
from harness.district import VirtualDistrict
from harness.printer.virtual import VirtualPrinter
from harness.terminal import VirtualTerminal
from tests.integration.conftest import TerminalFactory, Voters, card_of

PROFILE = "generic-80"


def _center_states(district: VirtualDistrict, terminal: str) -> list[ReservationState]:
    registry = district.registry()
    try:
        return [r.state for r in registry.reservations() if r.terminal == terminal]
    finally:
        registry.close()


def _paper(terminal: VirtualTerminal) -> VirtualPrinter:
    assert terminal.paper is not None
    return terminal.paper


def _confirm(terminal: VirtualTerminal, voters: Voters) -> None:
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.act(OperatorConfirmed())


def test_a_whole_persian_slip_comes_out_of_the_serial_printer(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer=PROFILE)
    _confirm(terminal, voters)
    committing = terminal.wait_for(st.Committing, timeout=20)
    assert isinstance(committing, st.Committing)
    terminal.wait_for(st.Idle)
    [job] = terminal.slips()
    assert job.complete and job.qr == (committing.inquiry_code,)
    assert not any("REPRINT" in line for line in job.text)
    png = _paper(terminal).pages[0].png
    assert png is not None and png.exists()


def test_paper_out_before_printing_asks_nothing_of_the_center_and_waits(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer=PROFILE)
    _paper(terminal).load_paper(mm=0)
    _confirm(terminal, voters)
    not_ready = terminal.wait_for(st.PrinterNotReady)
    assert isinstance(not_ready, st.PrinterNotReady)
    assert terminal.transactions() == [], "no reservation may be made for a printer that cannot print"
    assert _center_states(district, terminal.plan.identity.terminal) == []
    _paper(terminal).load_paper(mm=None)
    terminal.act(OperatorRetry())
    terminal.wait_for(st.Committing, timeout=20)
    terminal.wait_for(st.Idle)
    [job] = terminal.slips()
    assert job.complete and not any("REPRINT" in line for line in job.text)
    assert _center_states(district, terminal.plan.identity.terminal) == [ReservationState.COMMITTED]


def test_cover_open_before_printing_waits_for_the_operator(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer=PROFILE)
    _paper(terminal).set_cover_open(True)
    _confirm(terminal, voters)
    terminal.wait_for(st.PrinterNotReady)
    assert _center_states(district, terminal.plan.identity.terminal) == []
    _paper(terminal).set_cover_open(False)
    terminal.act(OperatorRetry())
    terminal.wait_for(st.Committing, timeout=20)


def test_paper_out_mid_slip_keeps_the_reservation_and_reprints_the_same_code(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer=PROFILE)
    _paper(terminal).load_paper(mm=25)
    _confirm(terminal, voters)
    failed = terminal.wait_for(st.PrintInterrupted, timeout=20)
    assert isinstance(failed, st.PrintInterrupted) and failed.stage is PrintStage.DURING
    assert [tx.stage for tx in terminal.transactions()] == [TxStage.PRINT_FAILED]
    assert _center_states(district, terminal.plan.identity.terminal) == [ReservationState.RESERVED]
    _paper(terminal).load_paper(mm=None)
    terminal.act(OperatorRetry())
    committing = terminal.wait_for(st.Committing, timeout=20)
    assert isinstance(committing, st.Committing) and committing.inquiry_code == failed.inquiry_code
    terminal.wait_for(st.Idle)
    torn, reprint = terminal.slips()
    assert not torn.complete
    assert reprint.complete and reprint.qr == (failed.inquiry_code,)
    assert any("REPRINT" in line for line in reprint.text)
    assert _center_states(district, terminal.plan.identity.terminal) == [ReservationState.COMMITTED]
    assert [tx.stage for tx in terminal.transactions()] == [TxStage.ISSUED]


def test_a_printer_that_cannot_be_fixed_voids_and_frees_the_voter(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(serial_printer=PROFILE)
    _paper(terminal).load_paper(mm=25)
    _confirm(terminal, voters)
    terminal.wait_for(st.PrintInterrupted, timeout=20)
    terminal.act(OperatorVoid())
    terminal.wait_for(st.Idle)
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.VOIDED])
    assert _center_states(district, terminal.plan.identity.terminal) == [ReservationState.VOIDED]
