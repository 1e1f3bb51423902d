"""The in-process fakes report exactly what the drivers they stand for report."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.escpos.status import PAPER_END_BITS, decode_paper_status
from hal.printer import PrinterState, PrintStage
from harness.fakes import LoggingPrinter


@pytest.mark.parametrize("state", [PrinterState.NO_PAPER, PrinterState.COVER_OPEN, PrinterState.ERROR,
                                   PrinterState.OFFLINE])
def test_a_failed_fake_printer_reports_the_drivers_status(state: PrinterState, tmp_path: Path) -> None:
    printer = LoggingPrinter(tmp_path / "printer.jsonl")
    printer.fail_next(PrintStage.BEFORE, state)
    status = printer.status()
    assert status.state is state and not status.can_print
    assert status.detail.isascii() and status.detail, "the driver's detail is English, for the log"


def test_the_fake_printers_paper_end_is_the_drivers_word_for_it(tmp_path: Path) -> None:
    printer = LoggingPrinter(tmp_path / "printer.jsonl")
    printer.fail_next(PrintStage.BEFORE)
    assert printer.status() == decode_paper_status(PAPER_END_BITS)
