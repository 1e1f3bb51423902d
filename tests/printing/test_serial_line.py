"""The serial driver against the virtual printer over a real pseudo-terminal: printing and every failure."""

from __future__ import annotations

from pathlib import Path

from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import GENERIC_80
from drivers.escpos.serial_printer import SerialPrinter
from firmware_app.slip import compose_slip
from hal.printer import PrintDocument, Printed, PrinterState, PrintFailed, PrintStage
from harness.printer.virtual import EventKind
from tests.printing.conftest import Line, slip_content

SLIP = compose_slip(slip_content(), GENERIC_80.dots_per_line)
REPRINT = compose_slip(slip_content(reprint=True), GENERIC_80.dots_per_line)


def failed(result: Printed | PrintFailed, stage: PrintStage, state: PrinterState) -> bool:
    return isinstance(result, PrintFailed) and result.stage is stage and result.status.state is state


def test_a_slip_prints_whole_and_is_reported_printed_after_the_printer_confirms(line: Line) -> None:
    result = line.printer.print_document(SLIP)
    assert result == Printed(line.printer.status()), f"expected Printed, got {result}"
    assert line.virtual.wait_for_pages(1)
    page = line.virtual.pages[0]
    assert page.complete and page.png is not None and page.png.is_file()
    assert page.job == encode_document(SLIP, GENERIC_80), "the page was made of exactly the bytes encoded"
    assert line.virtual.events_of(EventKind.UNKNOWN_COMMAND) == []
    assert len(line.virtual.events_of(EventKind.BARRIER_ANSWERED)) == 1
    assert len(line.virtual.events_of(EventKind.PROCESS_ID_ANSWERED)) == 1, "the job was confirmed by its id"


def test_paper_out_before_printing_sends_nothing_and_fails_before(line: Line) -> None:
    line.virtual.load_paper(0)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.BEFORE, PrinterState.NO_PAPER), result
    assert line.virtual.job_bytes_received == 0
    assert line.virtual.pages == []


def test_paper_out_mid_slip_fails_during_and_the_rest_never_comes_out(line: Line) -> None:
    line.virtual.load_paper(mm=25)
    result = line.printer.print_document(SLIP)
    assert failed(result, PrintStage.DURING, PrinterState.NO_PAPER), result
    assert [page.complete for page in line.virtual.pages] == [False], "a torn, partial slip and nothing more"
    assert line.virtual.events_of(EventKind.BUFFER_CLEARED), "the unprinted rest of the job was dropped"
    assert result.status.detail == "paper end", "the printer acknowledged clearing its buffer"
    line.virtual.load_paper()
    assert line.printer.status().state is PrinterState.READY
    assert line.printer.print_document(REPRINT) == Printed(line.printer.status())
    assert [page.complete for page in line.virtual.pages] == [False, True], "only the reprint came out after reload"


def test_cover_open_before_printing_fails_before_and_printing_resumes_once_closed(line: Line) -> None:
    line.virtual.set_cover_open(True)
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.COVER_OPEN)
    assert line.virtual.job_bytes_received == 0
    line.virtual.set_cover_open(False)
    assert isinstance(line.printer.print_document(SLIP), Printed)


def test_offline_printer_fails_before(line: Line) -> None:
    line.virtual.set_offline(True)
    assert line.printer.status().state is PrinterState.OFFLINE
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.OFFLINE)
    assert line.virtual.job_bytes_received == 0


def test_mechanical_error_is_an_error_status(line: Line) -> None:
    line.virtual.set_error(True)
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.ERROR)


def test_paper_near_end_still_prints_and_says_so(line: Line) -> None:
    line.virtual.load_paper(mm=500, near_end_below_mm=1000)
    result = line.printer.print_document(SLIP)
    assert isinstance(result, Printed) and result.status.state is PrinterState.PAPER_LOW, result


def test_unplugged_cable_is_disconnected_and_nothing_is_printed(line: Line) -> None:
    line.virtual.set_unplugged(True)
    impatient = SerialPrinter(line.device, GENERIC_80, answer_timeout_s=0.2)
    status = impatient.status()
    assert status.state is PrinterState.DISCONNECTED and "no answer" in status.detail
    assert failed(impatient.print_document(SLIP), PrintStage.BEFORE, PrinterState.DISCONNECTED)
    impatient.close()
    line.virtual.set_unplugged(False)
    assert isinstance(line.printer.print_document(SLIP), Printed)
    assert len(line.virtual.pages) == 1


def test_missing_device_is_disconnected_not_an_exception(tmp_path: Path) -> None:
    printer = SerialPrinter(str(tmp_path / "no-such-tty"), GENERIC_80, answer_timeout_s=0.2)
    status = printer.status()
    assert status.state is PrinterState.DISCONNECTED and "cannot open" in status.detail
    assert failed(printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.DISCONNECTED)
    printer.close()


def test_printing_paced_at_the_profiles_baud_rate_still_completes(line: Line) -> None:
    line.virtual.pace_at_baud(GENERIC_80.baud_rate)
    assert isinstance(line.printer.print_document(SLIP), Printed)
    assert line.virtual.pages[0].complete


def test_an_empty_document_prints_nothing_but_is_confirmed(line: Line) -> None:
    assert isinstance(line.printer.print_document(PrintDocument("empty", ())), Printed)
    assert line.virtual.pages == []


def test_cable_pulled_mid_slip_fails_during_as_disconnected(line: Line) -> None:
    printer = SerialPrinter(line.device, GENERIC_80, answer_timeout_s=0.1, poll_interval_s=0.05, print_allowance_s=0.3)
    line.virtual.unplug_after(job_bytes=1000)
    result = printer.print_document(SLIP)
    printer.close()
    assert failed(result, PrintStage.DURING, PrinterState.DISCONNECTED), result
    assert "may still be in the printer" in result.status.detail, "the driver could not confirm the buffer was cleared"
    assert [page.complete for page in line.virtual.pages] == [], "nothing was cut"


def test_a_printer_slower_than_the_line_is_busy_not_failed(line: Line) -> None:
    line.virtual.pace_at_baud(GENERIC_80.baud_rate // 4)
    result = line.printer.print_document(SLIP)
    assert isinstance(result, Printed), f"a slow printer was reported as {result}"
    assert [page.complete for page in line.virtual.pages] == [True]


def test_printer_gone_from_the_line_is_disconnected_not_an_exception(line: Line) -> None:
    assert line.printer.status().state is PrinterState.READY
    line.virtual.stop()
    status = line.printer.status()
    assert status.state is PrinterState.DISCONNECTED, status
    assert failed(line.printer.print_document(SLIP), PrintStage.BEFORE, PrinterState.DISCONNECTED)
