"""What goes on the slip: validated content, Persian wording and digits, glyph checks, native parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from drivers.escpos.profiles import GENERIC_58, GENERIC_80
from firmware_app.slip import ReportHeader, compose_closing_report, compose_slip, compose_zero_report
from firmware_app.slip.fonts import MissingGlyphError, check_glyphs
from firmware_app.slip.persian import jalali_date_time
from firmware_app.slip.raster import text_raster
from hal.printer import TEXT_CELL_WIDTH_DOTS, Align, Cut, QrCode, Raster, TextLine
from protocol.inquiry_code import group_inquiry_code
from protocol.messages import CloseCounts, DocumentKind
from protocol.national_code import to_persian_digits
from protocol.offline_code import group_offline_code
from tests.printing.conftest import INQUIRY_CODE, OFFLINE_CODE, slip_content

ZERO = CloseCounts(0, 0, 0, 0, 0, 0, 0, 0)


def test_jalali_date_is_iran_wall_clock_with_persian_digits() -> None:
    assert jalali_date_time(datetime(2026, 11, 29, 11, 5, tzinfo=UTC)) == "۸ آذر ۱۴۰۵، ساعت ۱۴:۳۵"


def test_the_jalali_year_turns_at_nowruz() -> None:
    assert jalali_date_time(datetime(2026, 3, 20, 21, 0, tzinfo=UTC)).startswith("۱ فروردین ۱۴۰۵")


def test_persian_digits_replace_only_ascii_digits() -> None:
    assert to_persian_digits("B-0042 / 1405") == "B-۰۰۴۲ / ۱۴۰۵"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inquiry_code": "123456789"}, "inquiry code"),
        ({"issued_at": datetime(2026, 11, 29, 11, 5)}, "timezone-aware"),
        ({"serial": 0}, "start at 1"),
        ({"branch": "شعبه"}, "printable ASCII"),
        ({"offline": True}, "offline code"),
        ({"inquiry_code": OFFLINE_CODE}, "inquiry code"),
        ({"offline": True, "inquiry_code": OFFLINE_CODE[:-1] + "0"}, "offline code"),
    ],
)
def test_bad_slip_content_is_refused_with_a_clear_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(slip_content(), **change)


def test_a_character_missing_from_the_font_is_refused_before_it_prints_as_a_box() -> None:
    with pytest.raises(MissingGlyphError, match=r"U\+0041"):
        check_glyphs("شعبه A", bold=False)
    with pytest.raises(MissingGlyphError):
        text_raster("کد / ۱۲۳", 24, 576)


def test_inquiry_code_branch_terminal_and_serial_are_native_text_and_the_qr_holds_the_code() -> None:
    document = compose_slip(slip_content(), GENERIC_80.dots_per_line)
    texts = [e.text for e in document.elements if isinstance(e, TextLine)]
    assert texts == [group_inquiry_code(INQUIRY_CODE), "B-0042", "T-07", "123"]
    code_line = next(e for e in document.elements if isinstance(e, TextLine) and e.text == "123-456-784")
    assert code_line.scale == 3 and code_line.bold
    assert [e.data for e in document.elements if isinstance(e, QrCode)] == [INQUIRY_CODE]
    assert isinstance(document.elements[-1], Cut)


def test_the_code_shrinks_to_fit_58mm_paper() -> None:
    document = compose_slip(slip_content(), GENERIC_58.dots_per_line)
    code_line = next(e for e in document.elements if isinstance(e, TextLine) and e.text == "123-456-784")
    assert code_line.scale == 2


@pytest.mark.parametrize("width", [GENERIC_80.dots_per_line, GENERIC_58.dots_per_line])
def test_reprint_and_training_are_marked_in_latin_top_and_bottom(width: int) -> None:
    both = compose_slip(replace(slip_content(), reprint=True, training=True), width)
    texts = [e.text for e in both.elements if isinstance(e, TextLine)]
    assert texts.count("*** REPRINT ***") == 2
    assert texts.count("TRAINING - NOT VALID") == 2
    plain = compose_slip(slip_content(), width)
    assert not {"*** REPRINT ***", "TRAINING - NOT VALID"} & {e.text for e in plain.elements if isinstance(e, TextLine)}


@pytest.mark.parametrize("width", [GENERIC_80.dots_per_line, GENERIC_58.dots_per_line])
def test_an_offline_slip_says_offline_top_and_bottom_and_carries_its_offline_code(width: int) -> None:
    document = compose_slip(slip_content(offline=True, inquiry_code=OFFLINE_CODE), width)
    texts = [e.text for e in document.elements if isinstance(e, TextLine)]
    assert texts.count("OFFLINE") == 2 and texts[0] == "OFFLINE" and texts[-1] == "OFFLINE"
    assert group_offline_code(OFFLINE_CODE) in texts and group_inquiry_code(INQUIRY_CODE) not in texts
    assert [e.data for e in document.elements if isinstance(e, QrCode)] == [OFFLINE_CODE]
    inverted = [e for e in document.elements if isinstance(e, Raster)][1]
    assert inverted.width_dots <= width
    assert "offline" in document.title
    assert "OFFLINE" not in {e.text for e in compose_slip(slip_content(), width).elements if isinstance(e, TextLine)}


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_document_kind_composes_within_58mm(kind: DocumentKind) -> None:
    document = compose_slip(replace(slip_content(), document=kind), GENERIC_58.dots_per_line)
    rasters = [e for e in document.elements if isinstance(e, Raster)]
    assert all(r.width_dots <= GENERIC_58.dots_per_line for r in rasters)
    assert {r.align for r in rasters} == {Align.CENTER, Align.RIGHT}


def test_reports_wrap_long_versions_and_hashes_to_the_paper() -> None:
    header = ReportHeader("T-07", "B-0042", "v" * 64, "a" * 64, "b" * 64, datetime(2026, 11, 29, 3, 30, tzinfo=UTC))
    for document in (compose_zero_report(header, GENERIC_58.dots_per_line), compose_closing_report(header, ZERO, GENERIC_58.dots_per_line)):
        lines = [e for e in document.elements if isinstance(e, TextLine)]
        assert "".join(e.text for e in lines if set(e.text) == {"v"}) == "v" * 64
        assert all(len(e.text) * TEXT_CELL_WIDTH_DOTS <= GENERIC_58.dots_per_line for e in lines)


def test_a_report_needs_an_aware_time_and_ascii_identifiers() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ReportHeader("T-07", "B-0042", "0.1.0", "a" * 40, "b" * 64, datetime(2026, 11, 29, 3, 30))
    with pytest.raises(ValueError, match="branch"):
        ReportHeader("T-07", "", "0.1.0", "a" * 40, "b" * 64, datetime(2026, 11, 29, 3, 30, tzinfo=UTC))
