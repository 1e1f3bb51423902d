"""Debian's Chromium, headless through chromium-driver, as the tests and benches open a page; and axe-core run on it."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
_AXE_PACKAGE = importlib.util.find_spec("axe_core_python")
AXE = None if _AXE_PACKAGE is None or _AXE_PACKAGE.origin is None else Path(_AXE_PACKAGE.origin).parent / "axe.min.js"
"""axe-core 4.4.3 (MPL-2.0), as the PyPI package axe-core-python (the dev extras) ships it."""
_AXE_RUN = """
const done = arguments[arguments.length - 1];
const incomplete = arguments[0];
axe.run(document).then(
  (result) => done([...result.violations, ...(incomplete ? result.incomplete.map(
    (v) => ({...v, impact: `review:${v.impact}`})) : [])].map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" "))}))),
  (error) => done([{id: "axe-error", impact: "critical", help: String(error), nodes: []}]));
"""


SCREEN_SIGN_IN = """
const done = arguments[arguments.length - 1];
fetch("/api/sign-in", {method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify({role: "operator", pin: arguments[0]})}).then((r) => done(r.status));
"""
"""The operator screen's sign-in as its page makes it (argument: the PIN); done with the HTTP status."""
SCREEN_ACT = """
const done = arguments[arguments.length - 1];
fetch("/api/snapshot").then((r) => r.json()).then((s) => fetch("/api/action", {method: "POST",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify({action: arguments[0], seen: s.seen})}))
  .then((r) => done(r.status));
"""
"""An action on the screen the operator sees (argument: its name), as the page posts it; done with the status."""


def headless_chromium(window: tuple[int, int], *, accept_insecure_certs: bool = False,
                      lang: str = "fa") -> webdriver.Chrome:
    """A fresh browser at `window` CSS pixels (device scale 1); `accept_insecure_certs` for a TLS page whose
    certificate chain the caller checks itself with the district CA."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.accept_insecure_certs = accept_insecure_certs
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--lang={lang}",
                     f"--window-size={window[0]},{window[1]}", "--force-device-scale-factor=1", "--disable-gpu",
                     "--hide-scrollbars"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))


def axe_findings(driver: webdriver.Chrome, *, incomplete: bool = False) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (injected through WebDriver, not served by the page); with
    `incomplete`, also what it could not decide, each impact prefixed `review:`, for a person to look at."""
    if AXE is None:
        raise RuntimeError("pip install axe-core-python (the dev extras)")
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(30)
    found: list[dict[str, Any]] = driver.execute_async_script(_AXE_RUN, incomplete)
    return found


def wait_on_page(driver: webdriver.Chrome, probe: Callable[[], T | None], failure: str, timeout: float,
                 shown: int = 600, context: Callable[[], str] | None = None) -> T:
    """Poll `probe` until it finds something (an element gone stale is not found yet); past `timeout` (which only
    ends a hung test, no time is asserted) an AssertionError with `failure`, the page's first `shown` characters
    of text and `context()`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = probe()
        except StaleElementReferenceException:
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            body = driver.find_element(By.TAG_NAME, "body").text
            extra = f"; {context()}" if context is not None else ""
            raise AssertionError(f"{failure}; the page shows: {body[:shown]!r}{extra}")
        time.sleep(0.05)
