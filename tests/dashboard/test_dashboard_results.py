"""The district's results on the dashboard over HTTPS: only for signed-in staff, in Persian (totals per election and
candidate, branches counted and missing, conflicts, each flag with its branch), pushed on the live stream too."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from selenium import webdriver

from center.dashboard.app import COOKIE
from center.results import DistrictResults, ReceivedMinutes, district_results
from protocol.codec import minutes_hash
from protocol.minutes import Minutes
from protocol.seal import generate_signing_key
from tests.center.minutes_sample import counted, minutes, signed_bundle
from tests.dashboard.conftest import PASSWORD, STAFF, Dashboard
from tests.dashboard.page import Page
from tests.dashboard.test_dashboard_http import call, signed_in

pytestmark = pytest.mark.real_peer
AT = datetime(2026, 6, 12, 22, 40, tzinfo=UTC)


def _results(district: str) -> DistrictResults:
    """B-101 counted (its ballot papers do not balance; two terminals, so the center's count bounds the box), B-102
    stuffed (more ballots than the center's slips), B-103 two different sets, B-104 silent."""
    bundle = signed_bundle(generate_signing_key())

    def received(branch: str, terminal: str, sent: Minutes) -> ReceivedMinutes:
        return ReceivedMinutes(branch, terminal, "a" * 32, minutes_hash(sent), sent, AT, False)

    unbalanced = counted((120, 80, 20), 5)
    pres = dataclasses.replace(unbalanced.counts[0], received=unbalanced.counts[0].received + 1)
    unbalanced = dataclasses.replace(unbalanced, counts=(pres, *unbalanced.counts[1:]))
    held = [received("B-101", "T-1", minutes(unbalanced, slips=200, bundle_hash=bundle.hash)),
            received("B-102", "T-3", minutes(counted((90, 10, 0), 0), bundle_hash=bundle.hash)),
            received("B-103", "T-4", minutes(counted((1, 2, 3)), bundle_hash=bundle.hash)),
            received("B-103", "T-4", minutes(counted((3, 2, 1)), bundle_hash=bundle.hash))]
    committed = {"B-101": 230, "B-102": 60, "B-103": 6, "B-104": 40}
    return district_results(district, bundle.bundle, bundle.hash, committed, committed, {}, held)


def test_results_are_shown_to_signed_in_staff_in_persian_with_every_flag_and_its_branch(dashboard: Dashboard) -> None:
    assert call(dashboard, "/api/results").status == 403, "results before signing in"
    cookie, _ = signed_in(dashboard)
    unavailable = call(dashboard, "/api/results", headers=cookie).json()
    assert unavailable["available"] is False and "در دسترس نیست" in str(unavailable["text"])
    dashboard.results.value = _results(dashboard.district.district)
    view: Any = call(dashboard, "/api/results", headers=cookie).json()
    assert view["available"] is True
    president = view["elections"][0]
    assert president["title"] == "ریاست جمهوری"
    assert [(c["name"], c["votes_text"]) for c in president["candidates"]] == [
        ("نامزد یکم", "۲۱۰"), ("نامزد دوم", "۹۰"), ("نامزد سوم", "۲۰")]
    figures = {f["key"]: f["text"] for f in president["figures"]}
    assert figures["invalid"] == "۵" and figures["in_box"] == "۳۲۵" and figures["committed"] == "۲۹۰"
    assert figures["turnout"] == "۱۱۲٫۰۷", "ballots per hundred slips, Persian digits and separator"
    summary = {s["key"]: s["text"] for s in view["summary"]}
    assert (summary["counted"], summary["missing"], summary["conflicts"]) == ("۲", "۱", "۱")
    assert (view["missing"], view["conflicts"]) == (["B-104"], ["B-103"])
    flags = {(f["branch"], f["flag"]): f["text"] for f in view["flags"]}
    assert flags[("B-102", "box_over_slips")] == "آرای صندوق بیش از تعرفه‌های ثبت‌شده در مرکز"
    assert flags[("B-103", "conflict")].startswith("دو صورتجلسهٔ متفاوت")
    assert flags[("B-101", "failed_check")] == "کنترل صورتجلسه برقرار نیست: تراز برگ‌های رأی"
    details = {(f["branch"], f["flag"]): f["detail"] for f in view["flags"]}
    assert details[("B-102", "box_over_slips")] == "۱۰۰ رأی در صندوق، ۶۰ تعرفهٔ ثبت‌شده در مرکز"
    assert details[("B-101", "failed_check")] == "۲۷۵ در برابر ۲۷۶"
    assert all(part.endswith("…") and part[:12].isascii() for part in details[("B-103", "conflict")].split("، ")), \
        "a hash is shown short and as it is, never in Persian digits"


def test_the_live_stream_pushes_the_results(dashboard: Dashboard) -> None:
    dashboard.results.value = _results(dashboard.district.district)
    cookie, _ = signed_in(dashboard)
    request = urllib.request.Request(dashboard.url + "api/events", headers=cookie)
    with urllib.request.urlopen(request, timeout=10, context=dashboard.tls()) as stream:
        for _ in range(20):
            if stream.readline().decode().strip() == "event: results":
                data = stream.readline().decode().removeprefix("data: ")
                break
        else:
            pytest.fail("the stream sent no results")
    shown = json.loads(data)
    assert shown["available"] is True and shown["conflicts"] == ["B-103"]
    assert COOKIE in cookie["cookie"]


def test_staff_read_the_results_in_the_browser(dashboard: Dashboard, browser: webdriver.Chrome) -> None:
    dashboard.results.value = _results(dashboard.district.district)
    page = Page(browser, dashboard.url)
    browser.delete_all_cookies()
    browser.get(dashboard.url)
    page.sign_in(STAFF, PASSWORD)
    president = page.find('#results table[data-election="PRES"]')
    assert "ریاست جمهوری" in president.text and "نامزد یکم" in president.text and "۲۱۰" in president.text
    page.text_of('#results-missing [data-branch="B-104"]', "B-104")
    page.text_of('#results-conflicts [data-branch="B-103"]', "B-103")
    page.text_of('#results-flags [data-branch="B-102"][data-flag="box_over_slips"]', "آرای صندوق بیش از تعرفه‌های")
    page.screenshot("dashboard-results")
    browser.get("about:blank")
