"""The reconciliation of the district's OFFLINE slips on the dashboard: per branch, every double vote naming both
slips, the slips outside their permit; in Persian, only for signed-in staff, never a voter's keyed hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium import webdriver

from center.reconcile import OtherSlip, PermitFault, ReconcileOutcome, ReconcileRecord
from tests.dashboard.conftest import PASSWORD, STAFF, Dashboard
from tests.dashboard.page import Page
from tests.dashboard.test_dashboard_http import call, signed_in

pytestmark = pytest.mark.real_peer
AT = datetime(2026, 6, 12, 14, 30, tzinfo=UTC)
PERMIT = "c" * 32
VOTER_HASH = "f" * 64


def _records(district: str) -> list[ReconcileRecord]:
    """B-101: two OFFLINE slips issued; B-102: one a double vote after an online slip at B-101, one after the end
    of its permit."""
    def record(outcome: ReconcileOutcome, branch: str, terminal: str, code: str, minutes: int, **extra: Any
               ) -> ReconcileRecord:
        return ReconcileRecord(outcome, PERMIT, code, district, branch, terminal, AT + timedelta(minutes=minutes),
                               VOTER_HASH, "d" * 64, **extra)

    other = OtherSlip(district, "B-101", "T-2", AT - timedelta(hours=3), True, inquiry_code="123456789")
    return [record(ReconcileOutcome.ISSUED, "B-101", "T-1", "01000112345", 1),
            record(ReconcileOutcome.ISSUED, "B-101", "T-1", "01000254321", 5),
            record(ReconcileOutcome.DOUBLE_VOTE, "B-102", "T-3", "01000198765", 7, other=other),
            record(ReconcileOutcome.ISSUED, "B-102", "T-3", "01000211111", 9, faults=(PermitFault.AFTER_END,))]


def test_the_reconciliation_is_shown_to_staff_per_branch_with_each_double_vote(dashboard: Dashboard) -> None:
    dashboard.results.offline = None
    cookie, _ = signed_in(dashboard)
    unavailable: Any = call(dashboard, "/api/results", headers=cookie).json()["offline"]
    assert unavailable["available"] is False and "در دسترس نیست" in unavailable["text"]
    dashboard.results.offline = _records(dashboard.district.district)
    raw = call(dashboard, "/api/results", headers=cookie)
    view: Any = raw.json()["offline"]
    assert VOTER_HASH not in str(raw.json()), "a voter's keyed hash never leaves the registry"
    summary = {s["key"]: s["text"] for s in view["summary"]}
    assert (summary["recorded"], summary["issued"], summary["double_vote"], summary["faults"]) == ("۴", "۳", "۱", "۱")
    branches = {b["branch"]: b for b in view["branches"]}
    assert branches["B-101"]["colour"] == "green" and branches["B-102"]["colour"] == "red"
    assert branches["B-102"]["text"] == "صادرشده ۱، رأی تکراری ۱، بیرون از مجوز ۱"
    [double] = view["double_votes"]
    assert (double["branch"], double["terminal"], double["code"]) == ("B-102", "T-3", "01000198765")
    assert "شعبهٔ B-101، دستگاه T-2" in double["text"] and "(برخط)" in double["text"], double["text"]
    [fault] = view["faults"]
    assert fault["text"] == "پس از پایان‌دادن ستاد" and fault["code"] == "01000211111"


def test_staff_read_the_reconciliation_in_the_browser(dashboard: Dashboard, browser: webdriver.Chrome) -> None:
    dashboard.results.offline = _records(dashboard.district.district)
    page = Page(browser, dashboard.url)
    browser.delete_all_cookies()
    browser.get(dashboard.url)
    page.sign_in(STAFF, PASSWORD)
    page.text_of('#offline-branches [data-branch="B-102"][data-colour="red"]', "رأی تکراری ۱")
    page.text_of('#double-votes [data-code="01000198765"]', "دستگاه T-2")
    page.text_of('#offline-faults [data-code="01000211111"]', "پس از پایان‌دادن ستاد")
    browser.execute_script("document.getElementById('offline').scrollIntoView()")
    page.screenshot("dashboard-offline")
    browser.get("about:blank")
