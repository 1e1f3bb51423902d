"""The demo itself: a whole polling day of a virtual branch, with every rule checked afterwards."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from center.synthetic_roll import generate_roll
from harness.card.pcscd import Pcscd
from harness.demo import run_demo

pytestmark = pytest.mark.slow


def test_a_polling_day_keeps_every_rule_and_counts_each_case(
    pcscd: Pcscd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[str] = []
    caplog.set_level(logging.DEBUG)
    report = run_demo(voters=4, seed=5, out=tmp_path / "demo", narrate=lines.append, pcscd=pcscd)
    assert report.violations == [] and report.invariants_ok, "\n".join(lines)
    assert (report.duplicates_refused, report.ineligible, report.rejected_documents) == (1, 3, 1)
    assert (report.operator_rejected, report.voided, report.reprinted, report.face_overrides) == (1, 1, 1, 1)
    assert report.issued == 4 + 4, "ordinary voters, the override, the typed code, the retry and the reprint"
    assert report.unresolved == 0
    roll = generate_roll(300, 5, date.today())
    logged = caplog.text + "\n".join(lines)
    assert caplog.records, "the run logged nothing, so the scan below would prove nothing"
    assert not [r for r in roll if r.national_code.digits in logged], "a national code reached a log line"
    stores = [*(tmp_path / "demo").glob("T-0101-*/journal.db*"), *(tmp_path / "demo/district").glob("registry.db*")]
    assert stores and not [p for p in stores if b"\xff\xd8\xff" in p.read_bytes()], "a face image was stored"
    slips = sorted((tmp_path / "demo").glob("T-0101-*/slips/page-*.png"))
    assert len(slips) >= report.issued + 4, "every slip, the torn one, and the zero and closing reports"
