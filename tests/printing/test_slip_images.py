"""Rendered slips and reports against golden images, the QR read back with OpenCV, and the byte budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import BASIC_58, GENERIC_58, GENERIC_80, PrinterProfile
from firmware_app.slip import ReportHeader, compose_closing_report, compose_slip, compose_zero_report
from hal.printer import PrintDocument, Printed
from protocol.messages import CloseCounts
from tests.printing.conftest import INQUIRY_CODE, OFFLINE_CODE, open_line, slip_content
from tests.printing.golden_images import assert_matches_golden, differing_pixels

SLIP_BUDGET_BYTES = 8 * 1024


def print_through_line(document: PrintDocument, profile: PrinterProfile, out_dir: Path) -> Image.Image:
    """Send the document over a real pseudo-terminal and return the page the virtual printer cut."""
    _, virtual, printer = open_line(profile, out_dir)
    try:
        result = printer.print_document(document)
        assert isinstance(result, Printed), f"printing failed: {result}"
        assert virtual.wait_for_pages(1)
        return virtual.pages[0].image
    finally:
        printer.close()
        virtual.stop()


VARIANTS: dict[str, dict[str, Any]] = {
    "normal": {}, "reprint": {"reprint": True}, "training": {"training": True},
    "offline": {"offline": True, "inquiry_code": OFFLINE_CODE},
}


@pytest.mark.parametrize("profile", [GENERIC_80, GENERIC_58], ids=lambda p: f"{p.paper_mm}mm")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_slip_renders_as_its_golden_image(profile: PrinterProfile, variant: str, tmp_path: Path) -> None:
    document = compose_slip(slip_content(**VARIANTS[variant]), profile.dots_per_line)
    page = print_through_line(document, profile, tmp_path)
    assert_matches_golden(page, f"slip-{profile.paper_mm}mm-{variant}.png", tmp_path)


HEADER = ReportHeader(
    terminal="T-07",
    branch="B-0042",
    software_version="0.1.0",
    software_hash="3f2a9c41d0b7e6a85c1e2d3f4a5b6c7d8e9f0a1b",
    config_hash="9d4c1b2a3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeef",
    printed_at=datetime(2026, 11, 29, 3, 30, tzinfo=UTC),
)


def test_zero_report_renders_as_its_golden_image(tmp_path: Path) -> None:
    page = print_through_line(compose_zero_report(HEADER, GENERIC_80.dots_per_line), GENERIC_80, tmp_path)
    assert_matches_golden(page, "zero-report-80mm.png", tmp_path)


def test_closing_report_renders_as_its_golden_image(tmp_path: Path) -> None:
    counts = CloseCounts(issued=512, reprinted=3, voided=2, duplicates_refused=7, ineligible=4, operator_rejected=1, rejected_documents=9,
                         face_overrides=1, offline_issued=6)
    page = print_through_line(compose_closing_report(HEADER, counts, GENERIC_58.dots_per_line), GENERIC_58, tmp_path)
    assert_matches_golden(page, "closing-report-58mm.png", tmp_path)


@pytest.mark.parametrize("profile", [GENERIC_80, BASIC_58], ids=lambda p: p.name)
def test_the_qr_code_on_the_printed_slip_reads_back_as_the_inquiry_code(profile: PrinterProfile, tmp_path: Path) -> None:
    page = print_through_line(compose_slip(slip_content(), profile.dots_per_line), profile, tmp_path)
    grey = np.asarray(page.convert("L"), dtype=np.uint8)
    decoded, points, _ = cv2.QRCodeDetector().detectAndDecode(grey)
    assert points is not None, f"no QR code found on the {profile.name} slip"
    assert decoded == INQUIRY_CODE


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_an_80mm_slip_stays_under_8_kb(variant: str) -> None:
    document = compose_slip(slip_content(**VARIANTS[variant]), GENERIC_80.dots_per_line)
    size = len(encode_document(document, GENERIC_80))
    assert size < SLIP_BUDGET_BYTES, f"{variant} slip is {size} bytes"


def test_a_slip_with_one_digit_changed_does_not_match_the_golden_image(tmp_path: Path) -> None:
    other = replace(slip_content(), serial=124)
    page = print_through_line(compose_slip(other, GENERIC_80.dots_per_line), GENERIC_80, tmp_path)
    assert differing_pixels(page, "slip-80mm-normal.png").histogram()[255] > 0
