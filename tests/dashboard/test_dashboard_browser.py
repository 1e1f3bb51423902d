"""The dashboard in Debian's headless Chromium (Selenium), served over TLS, fed by terminals through the real
broker: sign-in, the paper-out and offline terminals red with their reasons, an alert acknowledged, axe-core."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from center.fleet.alerts import AlertState, AuditKind
from center.fleet.rules import Condition
from harness.browser import axe_findings
from tests.dashboard.conftest import PASSWORD, STAFF, Dashboard, play_the_morning

pytestmark = pytest.mark.real_peer
T = TypeVar("T")
SCREENS = Path(os.environ.get("SCREENSHOTS_TO") or Path(tempfile.gettempdir()) / "kiosk-screens")
"""`make screens` sets SCREENSHOTS_TO=docs/screens (the README's pictures); other runs write them apart."""


class Page:
    def __init__(self, driver: webdriver.Chrome, url: str) -> None:
        self.driver, self.url = driver, url

    def wait(self, probe: Callable[[], T | None], failure: str, timeout: float = 15.0) -> T:
        """Poll until `probe` finds it (the deadline only ends a hung test; no time is asserted)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = probe()
            except StaleElementReferenceException:
                found = None
            if found is not None:
                return found
            if time.monotonic() > deadline:
                body = self.driver.find_element(By.TAG_NAME, "body").text
                raise AssertionError(f"{failure}; the page shows: {body[:600]!r}")
            time.sleep(0.05)

    def visible(self, css: str) -> WebElement | None:
        return next((e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)

    def find(self, css: str) -> WebElement:
        return self.wait(lambda: self.visible(css), f"no visible {css}")

    def text_of(self, css: str, wanted: str) -> str:
        def shown() -> str | None:
            found = self.visible(css)
            return found.text if found is not None and wanted in found.text else None
        return self.wait(shown, f"{css} never said {wanted!r}")

    def sign_in(self, password: str) -> None:
        self.find("#staff").clear()
        self.find("#staff").send_keys(STAFF)
        self.find("#password").send_keys(password)
        self.find("#sign-in-button").click()

    def axe(self) -> list[dict[str, Any]]:
        return axe_findings(self.driver)

    def screenshot(self, name: str) -> None:
        """SCREENS/<name>.png once the fonts have loaded; axe-core must find nothing serious on it."""
        self.driver.execute_script("return document.fonts.ready")
        SCREENS.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(SCREENS / f"{name}.png")), f"no screenshot of {name}"
        failing = [v for v in self.axe() if v["impact"] in {"serious", "critical"}]
        assert not failing, f"axe-core finds on {name}: {json.dumps(failing, ensure_ascii=False)}"


def test_staff_see_the_paper_out_and_offline_terminals_red_and_acknowledge_an_alert(
        dashboard: Dashboard, browser: webdriver.Chrome) -> None:
    play_the_morning(dashboard)
    page = Page(browser, dashboard.url)
    browser.delete_all_cookies()
    browser.get(dashboard.url)
    page.find("#sign-in-form")
    page.sign_in("not the password")
    page.text_of("#sign-in-problem", "نادرست")
    page.screenshot("dashboard-sign-in")
    page.sign_in(PASSWORD)
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
