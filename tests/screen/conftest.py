"""The operator screen in Debian's headless Chromium (Selenium, chromium-driver), against real terminals and district."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from harness.terminal import OPERATOR_PIN, VirtualTerminal, evidence_from
from protocol.national_code import to_persian_digits
from tests.integration.conftest import district, make_terminal, voters

__all__ = ["district", "make_terminal", "voters"]

T = TypeVar("T")

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1024, 768)
"""A 10-inch kiosk touch screen's CSS pixels."""


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=fa",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}", "--force-device-scale-factor=1",
                     "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The kiosk page of one terminal, driven as the operator would: taps on buttons, digits on the keypad."""

    def __init__(self, driver: webdriver.Chrome, terminal: VirtualTerminal) -> None:
        self.driver = driver
        self.terminal = terminal
        self.url = terminal.screen_url

    def open(self) -> None:
        self.driver.delete_all_cookies()
        self.driver.get(self.url)
        self.wait_css("#screen-sign-in")

    def sign_in(self, pin: str = OPERATOR_PIN) -> None:
        self.open()
        self.tap_keys("#screen-sign-in", to_persian_digits(pin))
        self.find("#sign-in").click()

    def tap_keys(self, scope: str, digits: str) -> None:
        for digit in digits:
            self.find(f'{scope} .keypad button[data-key="{digit}"]').click()

    def press(self, action: str) -> None:
        self.find(f'main button[data-action="{action}"]').click()

    def find(self, css: str, timeout: float = 10.0) -> WebElement:
        return self.wait(lambda: self._visible(css), f"no visible {css}", timeout)

    def wait_css(self, css: str, timeout: float = 10.0) -> WebElement:
        return self.find(css, timeout)

    def wait_screen(self, state: str, timeout: float = 15.0) -> WebElement:
        """Wait until the page shows the screen of this flow state."""
        return self.find(f"#screen-{state}", timeout)

    def text(self, css: str) -> str:
        return self.find(css).text

    def wait_text(self, css: str, wanted: str, timeout: float = 10.0) -> str:
        def shown() -> str | None:
            try:
                found = self._visible(css)
                return found.text if found is not None and wanted in found.text else None
            except StaleElementReferenceException:
                return None
        return self.wait(shown, f"{css} never said {wanted!r}", timeout)

    def screenshot(self, name: str) -> None:
        """docs/screens/<name>.png, after the fonts have loaded."""
        self.driver.execute_script("return document.fonts.ready")
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SCREENS / f"{name}.png"))

    def _visible(self, css: str) -> WebElement | None:
        for found in self.driver.find_elements(By.CSS_SELECTOR, css):
            try:
                if found.is_displayed():
                    return found
            except StaleElementReferenceException:
                continue
        return None

    def wait(self, probe: Callable[[], T | None], failure: str, timeout: float) -> T:
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
                raise AssertionError(f"{failure}; the page shows: {body[:400]!r}; "
                                     f"the terminal is in {type(self.terminal.state).__name__}")
            time.sleep(0.05)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, object]
    cookies: dict[str, str]


def http(url: str, method: str = "GET", body: dict[str, object] | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    """One request to a screen, outside the browser, headers as given (a forger's or the page's)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, header_list = response.status, response.read(), response.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as refused:
        status, raw, header_list = refused.code, refused.read(), refused.headers.get_all("set-cookie") or []
    cookies = {}
    for line in header_list:
        name, _, rest = line.partition("=")
        cookies[name] = rest.split(";")[0]
    return Reply(status, json.loads(raw) if raw else {}, cookies)


def audit_kinds(terminal: VirtualTerminal) -> list[tuple[str, dict[str, object]]]:
    """The terminal's audit entries, read on a connection of our own."""
    found = evidence_from(terminal.plan.work_dir, terminal.plan.identity.terminal)
    return [(entry.kind, json.loads(entry.detail)) for entry in found.audit]
