"""A hostile printer on the real pseudo-terminal: nothing it sends may make a job count as printed unless it
confirmed that very job, and nothing it does to the line may escape the driver as an exception."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import serial

from drivers.escpos.profiles import GENERIC_80
from drivers.escpos.serial_printer import SerialPrinter
from firmware_app.slip import compose_slip
from hal.printer import Printed, PrinterState, PrintFailed, PrintResult, PrintStage
from harness.printer.hostile import automatic_status
from harness.printer.virtual import EventKind
from tests.printing.conftest import Line, slip_content

SLIP = compose_slip(slip_content(), GENERIC_80.dots_per_line)
MID_JOB = 1500
"""Bytes of print data after which a hostile act happens: well inside a slip of some 5 KB."""


def failed(result: PrintResult, stage: PrintStage, state: PrinterState) -> bool:
    return isinstance(result, PrintFailed) and result.stage is stage and result.status.state is state


def quick(line: Line) -> SerialPrinter:
    """A driver with a short allowance, for jobs that are never going to be confirmed."""
    return SerialPrinter(line.device, GENERIC_80, answer_timeout_s=0.5, poll_interval_s=0.05, print_allowance_s=0.5)


def test_a_stray_00_from_a_power_cycle_mid_job_is_not_taken_for_the_confirmation(line: Line) -> None:
    line.virtual.power_cycle_after(MID_JOB, hello=b"\x00")
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), f"a power cycle mid-slip gave {result}"
    assert "00" in result.status.detail, result.status.detail
    assert line.virtual.events_of(EventKind.POWER_CYCLED)


def test_a_stray_00_mid_job_is_not_taken_for_the_confirmation(line: Line) -> None:
    line.virtual.send_after(MID_JOB, b"\x00")
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), f"a stray 00 gave {result}"
    assert line.virtual.events_of(EventKind.BUFFER_CLEARED), "the rest of the doubtful job was dropped"


def test_noise_on_the_line_mid_job_is_not_taken_for_the_confirmation(line: Line) -> None:
    line.virtual.send_after(MID_JOB, b"\x05\xa7\x3f\x0c")
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), f"noise gave {result}"
    assert "05" in result.status.detail, result.status.detail


def test_an_unsolicited_automatic_status_mid_job_is_not_taken_for_the_confirmation(line: Line) -> None:
    line.virtual.send_after(MID_JOB, line.virtual.automatic_status())
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), f"an ASB message gave {result}"
    assert "automatic status" in result.status.detail, result.status.detail


def test_an_automatic_status_saying_cover_open_fails_the_job_as_cover_open(line: Line) -> None:
    asb = automatic_status(offline=True, cover_open=True, error=False, near_end=False, paper_end=False)
    line.virtual.send_after(MID_JOB, asb)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.COVER_OPEN), result


def test_paper_end_in_the_completion_answer_is_not_printed(line: Line) -> None:
    line.virtual.lie_about_paper_end()
    line.virtual.load_paper(mm=25)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.NO_PAPER), f"a torn slip was reported as {result}"
    assert "confirmation" in result.status.detail, result.status.detail
    assert [page.complete for page in line.virtual.pages] == [False]


def test_xon_xoff_around_and_inside_every_answer_still_prints_and_is_confirmed(line: Line) -> None:
    line.virtual.interleave_flow_control()
    result = line.printer.print_document(SLIP)
    assert result == Printed(line.printer.status()), f"flow control bytes gave {result}"
    assert [page.complete for page in line.virtual.pages] == [True]


def test_xon_xoff_interleaved_still_reports_paper_out_mid_slip(line: Line) -> None:
    line.virtual.interleave_flow_control()
    line.virtual.load_paper(mm=25)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.NO_PAPER), result
    assert result.status.detail == "paper end", "the clear was acknowledged through the flow control bytes"


def test_no_print_data_is_sent_while_the_printer_holds_the_line_with_xoff(line: Line) -> None:
    assert line.printer.status().state is PrinterState.READY
    answered = len(line.virtual.events_of(EventKind.STATUS_ANSWERED))
    line.virtual.hold_line(True)
    results: list[PrintResult] = []
    worker = threading.Thread(target=lambda: results.append(line.printer.print_document(SLIP)))
    worker.start()
    before_round_done = threading.Event()
    while len(line.virtual.events_of(EventKind.STATUS_ANSWERED)) < answered + 4 and worker.is_alive():
        before_round_done.wait(0.01)
    before_round_done.wait(0.3)
    line.virtual.hold_line(False)
    worker.join(10)
    assert line.virtual.job_bytes_while_held == 0, "the driver sent print data after the printer said XOFF"
    assert results and isinstance(results[0], Printed), results
    assert [page.complete for page in line.virtual.pages] == [True]


def test_a_line_that_hangs_up_mid_job_is_a_typed_disconnection(line: Line) -> None:
    line.virtual.hang_up_after(MID_JOB)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.DISCONNECTED), result
    assert line.printer.status().state is PrinterState.DISCONNECTED
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.DISCONNECTED)


def test_a_line_that_hangs_up_while_the_job_drains_to_the_uart_is_a_typed_disconnection(
    line: Line, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A USB adapter pulled while tcdrain waits: pyserial's flush() raises termios.error, not SerialException.
    The hook only picks the moment; the hang-up and the termios.error are the kernel's own."""
    drain: Callable[[serial.Serial], None] = serial.Serial.flush

    def hang_up_then_drain(port: serial.Serial) -> None:
        line.virtual.hang_up()
        drain(port)

    assert line.printer.status().state is PrinterState.READY
    monkeypatch.setattr(serial.Serial, "flush", hang_up_then_drain)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.DISCONNECTED), result
    assert "Input/output error" in result.status.detail, result.status.detail
    assert line.printer.status().state is PrinterState.DISCONNECTED


def test_a_line_that_hangs_up_between_jobs_is_a_typed_disconnection(line: Line) -> None:
    assert isinstance(line.printer.print_document(SLIP), Printed)
    line.virtual.hang_up()
    assert line.printer.status().state is PrinterState.DISCONNECTED
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.DISCONNECTED)
    line.printer.close()


def test_a_job_the_printer_loses_silently_is_unconfirmed_after_the_deadline(line: Line) -> None:
    printer = quick(line)
    line.virtual.lose_next_job()
    result = printer.print_document(SLIP)
    printer.close()
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), result
    assert "in time" in result.status.detail, result.status.detail
    assert line.virtual.events_of(EventKind.JOB_LOST) and line.virtual.pages == []


def test_a_lost_job_answered_with_the_previous_jobs_confirmation_is_not_printed(line: Line) -> None:
    assert isinstance(line.printer.print_document(SLIP), Printed)
    line.virtual.lose_next_job(replay_last_confirmation=True)
    printer = quick(line)
    line.printer.close()
    result = printer.print_document(SLIP)
    printer.close()
    assert failed(result, PrintStage.DURING, PrinterState.UNCONFIRMED), f"a stale confirmation gave {result}"
    assert len(line.virtual.pages) == 1, "only the first slip came out"


def test_a_stray_byte_between_jobs_does_not_stop_the_next_job(line: Line) -> None:
    assert line.printer.status().state is PrinterState.READY
    line.virtual.send_after(0, b"\x00")
    assert isinstance(line.printer.print_document(SLIP), Printed)
    assert [page.complete for page in line.virtual.pages] == [True]
