"""The dashboard in Debian's headless Chromium (Selenium), served over TLS, fed by terminals through the real
broker: sign-in, the paper-out and offline terminals red with their reasons, an alert acknowledged, axe-core."""

from __future__ import annotations

import pytest
from selenium import webdriver

from center.fleet.alerts import AlertState, AuditKind
from center.fleet.rules import Condition
from tests.dashboard.conftest import PASSWORD, STAFF, Dashboard, play_the_morning
from tests.dashboard.page import Page

pytestmark = pytest.mark.real_peer


def test_staff_see_the_paper_out_and_offline_terminals_red_and_acknowledge_an_alert(
        dashboard: Dashboard, browser: webdriver.Chrome) -> None:
    play_the_morning(dashboard)
    page = Page(browser, dashboard.url)
    browser.delete_all_cookies()
    browser.get(dashboard.url)
    page.find("#sign-in-form")
    page.sign_in(STAFF, "not the password")
    page.text_of("#sign-in-problem", "نادرست")
    page.screenshot("dashboard-sign-in")
    page.sign_in(STAFF, PASSWORD)
    paper = page.find('[data-terminal="T-2"][data-colour="red"]')
    assert "چاپگر: کاغذ تمام شده" in paper.text and "بحرانی" in paper.text
    offline = page.find('[data-terminal="T-3"][data-colour="red"]')
    assert "بی‌ارتباط: پیام خداحافظی کارگزار" in offline.text
    assert page.find('[data-terminal="T-1"]').get_attribute("data-colour") == "green"
    page.text_of('[data-branch="B-103"]', "شعبه باز نشده")
    page.text_of('#openings [data-branch="B-103"]', "باز نشده")
    assert page.find("#issued-chart svg").get_attribute("aria-label"), "the chart has no text alternative"
    alert = next(a for a in dashboard.fleet.snapshot().alerts
                 if a.subject.terminal == "T-2" and a.condition is Condition.PRINTER)
    page.find(f'[data-alert="{alert.id}"][data-state="open"] button.ack').click()
    page.find(f'[data-alert="{alert.id}"][data-state="acknowledged"]')
    page.text_of(f'[data-alert="{alert.id}"]', f"دید: {STAFF}")
    page.screenshot("dashboard")
    held = next(a for a in dashboard.fleet.snapshot().alerts if a.id == alert.id)
    assert held.state is AlertState.ACKNOWLEDGED and held.acknowledged_by == STAFF
    kinds = [e.kind for e in dashboard.fleet.store.audit_entries()]
    assert AuditKind.STAFF_SIGN_IN_REFUSED in kinds and AuditKind.STAFF_SIGNED_IN in kinds
    assert AuditKind.ALERT_ACKNOWLEDGED in kinds
    browser.get("about:blank")
