"""The printed branch minutes: every figure under the candidates' Persian names, each check's result with what was
found against the bound, the officials, the seals, the hash's QR read back, REPRINT and training marks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from drivers.escpos.profiles import GENERIC_58, GENERIC_80
from firmware_app.slip import ReportHeader, compose_minutes
from firmware_app.slip.minutes import FAILED, PASSED, check_line, figure_lines, vote_lines
from hal.printer import QrCode, Raster, TextLine
from harness.election import COUNCIL, counted, day_election
from protocol.codec import minutes_hash
from protocol.minutes import Candidate, Check, ElectionBundle, Minutes, check_minutes
from tests.printing.golden_images import assert_matches_golden
from tests.printing.test_slip_images import print_through_line

BUNDLE = day_election("D01", council=True)
FIGURES = counted(BUNDLE, 40)
AT = datetime(2026, 11, 29, 15, 10, tzinfo=UTC)
HEADER = ReportHeader("T-07", "B-0042", "0.1.0", "ab" * 20, "cd" * 32, AT)


def minutes(*, slips: int = 40, committed: int | None = 40, training: bool = False,
            bundle: ElectionBundle = BUNDLE) -> Minutes:
    return Minutes("ef" * 32, FIGURES, ("head", "operator"), slips, committed,
                   check_minutes(FIGURES, bundle, slips, committed), AT, training)


def test_the_minutes_render_as_their_golden_image_and_the_qr_reads_back_as_their_hash(tmp_path: Path) -> None:
    document = minutes()
    page = print_through_line(compose_minutes(HEADER, document, minutes_hash(document), BUNDLE, False,
                                              GENERIC_80.dots_per_line), GENERIC_80, tmp_path)
    assert_matches_golden(page, "minutes-80mm.png", tmp_path)
    assert _qr_on(np.asarray(page.convert("L"), dtype=np.uint8)) == minutes_hash(document), (
        "the QR must read back as the minutes' hash")


def _qr_on(page: np.ndarray) -> str | None:
    """The QR code's text on a long page (the detector wants a window about the code's size)."""
    for top in range(0, max(page.shape[0] - 600, 1), 150):
        decoded, points, _ = cv2.QRCodeDetector().detectAndDecode(page[top:top + 600])
        if points is not None and decoded:
            return str(decoded)
    return None


def test_the_native_parts_are_the_seals_the_officials_and_the_hash() -> None:
    document = minutes()
    digest = minutes_hash(document)
    printed = compose_minutes(HEADER, document, digest, BUNDLE, False, GENERIC_58.dots_per_line)
    assert printed.title == "minutes"
    assert [e.data for e in printed.elements if isinstance(e, QrCode)] == [digest]
    texts = [e.text for e in printed.elements if isinstance(e, TextLine)]
    assert {"S-1001", "S-1002", "head", "operator", "B-0042", "T-07"} <= set(texts)
    assert "".join(t for t in texts if all(c in "0123456789abcdef" for c in t)) == digest, "the hash in full"
    assert all(e.width_dots <= GENERIC_58.dots_per_line for e in printed.elements if isinstance(e, Raster))


def test_every_figure_is_printed_and_each_vote_under_the_candidates_name() -> None:
    count = FIGURES.counts[1]
    assert figure_lines(count)[:2] == ["برگ رأی دریافتی: ۸۰", "برگ رأی مصرف‌شده: ۴۰"]
    assert len(figure_lines(count)) == 6
    votes = vote_lines(count, COUNCIL)
    assert len(votes) == len(COUNCIL.candidates) and votes[0].startswith("مریم صادقی: ")


def test_each_check_says_passed_or_failed_with_what_was_found_against_the_bound() -> None:
    document = minutes(slips=30, committed=None)
    lines = [check_line(result, BUNDLE) for result in document.checks]
    assert Check.BOX_WITHIN_CENTER not in {result.check for result in document.checks}
    failed = [line for line in lines if f": {FAILED}" in line]
    assert len(failed) == 2, lines
    assert all("یافته ۴۰، حد ۳۰" in line for line in failed), failed
    assert all(f": {PASSED}" in line for line in lines if line not in failed)
    assert any("کرسی" in line for line in lines), "the council's check says it is a several-names count"


def test_a_reprint_and_training_minutes_are_marked() -> None:
    document = minutes(training=True)
    printed = compose_minutes(HEADER, document, minutes_hash(document), BUNDLE, True, GENERIC_80.dots_per_line)
    texts = [e.text for e in printed.elements if isinstance(e, TextLine)]
    assert printed.title == "minutes reprint training"
    assert texts.count("*** REPRINT ***") == 2 and texts.count("TRAINING - NOT VALID") == 2


def test_names_the_font_cannot_draw_or_too_long_for_the_paper_still_print() -> None:
    odd = dataclasses.replace(BUNDLE.elections[0], title="انتخابات " * 30,
                              candidates=(Candidate("P01", "John (Jr.) = 100%"), *BUNDLE.elections[0].candidates[1:]))
    bundle = dataclasses.replace(BUNDLE, elections=(odd, *BUNDLE.elections[1:]))
    document = minutes(bundle=bundle)
    printed = compose_minutes(HEADER, document, minutes_hash(document), bundle, False, GENERIC_58.dots_per_line)
    assert all(e.width_dots <= GENERIC_58.dots_per_line for e in printed.elements if isinstance(e, Raster))


def test_the_offline_slips_are_printed_on_a_line_of_their_own_only_when_there_are_some() -> None:
    plain = compose_minutes(HEADER, minutes(), "ab" * 32, BUNDLE, False, GENERIC_58.dots_per_line)
    offline = compose_minutes(HEADER, dataclasses.replace(minutes(), offline_slips=3), "ab" * 32, BUNDLE, False,
                              GENERIC_58.dots_per_line)
    rasters = [sum(isinstance(e, Raster) for e in doc.elements) for doc in (plain, offline)]
    assert rasters[1] == rasters[0] + 1, rasters
