"""The dashboard page as a staff member's browser shows it (Selenium): waits, sign-in, axe-core, screenshots."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from harness.browser import axe_findings, wait_on_page

T = TypeVar("T")
SCREENS = Path(os.environ.get("SCREENSHOTS_TO") or Path(tempfile.gettempdir()) / "kiosk-screens")
"""`make screens` sets SCREENSHOTS_TO=docs/screens (the README's pictures); other runs write them apart."""


class Page:
    def __init__(self, driver: webdriver.Chrome, url: str) -> None:
        self.driver, self.url = driver, url

    def wait(self, probe: Callable[[], T | None], failure: str, timeout: float = 15.0) -> T:
        return wait_on_page(self.driver, probe, failure, timeout)

    def visible(self, css: str) -> WebElement | None:
        return next((e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)

    def find(self, css: str) -> WebElement:
        return self.wait(lambda: self.visible(css), f"no visible {css}")

    def text_of(self, css: str, wanted: str) -> str:
        def shown() -> str | None:
            found = self.visible(css)
            return found.text if found is not None and wanted in found.text else None
        return self.wait(shown, f"{css} never said {wanted!r}")

    def sign_in(self, staff: str, password: str) -> None:
        self.find("#staff").clear()
        self.find("#staff").send_keys(staff)
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
