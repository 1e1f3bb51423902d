"""Fixtures for printing tests: a virtual printer on a real pseudo-terminal and the serial driver facing it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.escpos.profiles import GENERIC_80, PrinterProfile
from drivers.escpos.serial_printer import SerialPrinter
from firmware_app.slip import SlipContent
from harness.printer.pty_pair import open_virtual_printer
from harness.printer.virtual import VirtualPrinter
from protocol.messages import DocumentKind

INQUIRY_CODE = "123456784"
"""A fixed code with a valid Verhoeff check digit, so rendered slips can be compared with golden images."""
OFFLINE_CODE = "01004273155"
"""A fixed offline code (slot 1, sequence 42) with a valid check digit."""


@dataclass
class Line:
    """Both ends of one serial line."""

    device: str
    virtual: VirtualPrinter
    printer: SerialPrinter


def open_line(profile: PrinterProfile, out_dir: Path) -> tuple[str, VirtualPrinter, SerialPrinter]:
    device, virtual = open_virtual_printer(profile, out_dir)
    return device, virtual, SerialPrinter(device, profile, answer_timeout_s=1.0, poll_interval_s=0.05, print_allowance_s=5.0)


@pytest.fixture
def line(tmp_path: Path) -> Iterator[Line]:
    device, virtual, printer = open_line(GENERIC_80, tmp_path / "pages")
    try:
        yield Line(device, virtual, printer)
    finally:
        printer.close()
        virtual.stop()


def slip_content(*, reprint: bool = False, training: bool = False, offline: bool = False,
                 inquiry_code: str = INQUIRY_CODE) -> SlipContent:
    return SlipContent(
        inquiry_code=inquiry_code,
        branch="B-0042",
        terminal="T-07",
        serial=123,
        document=DocumentKind.SMART_CARD,
        issued_at=datetime(2026, 11, 29, 11, 5, tzinfo=UTC),
        reprint=reprint,
        training=training,
        offline=offline,
    )
