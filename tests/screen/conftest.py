"""The operator screen in Debian's headless Chromium (Selenium, chromium-driver), against real terminals and district."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from firmware_app.runtime.faults import FaultPoints
from harness.browser import AXE, axe_findings, headless_chromium, wait_on_page
from harness.camera.booth import CameraBooth
from harness.camera.voters import FaceCase, write_camera_source
from harness.district import VirtualDistrict
from harness.terminal import OPERATOR_PIN, TerminalPlan, VirtualTerminal, evidence_from
from protocol.national_code import to_persian_digits
from provisioning.installed import Installation
from tests.integration.conftest import district, make_terminal, voters

__all__ = ["district", "make_terminal", "voters"]

assert AXE is not None, "pip install axe-core-python (the dev extras)"
AXE_FAILING = {"serious", "critical"}
AXE_LOG = os.environ.get("AXE_LOG")
"""With AXE_LOG set, what axe-core finds on each screen, and what it could not decide, goes to that file."""

T = TypeVar("T")

SCREENS = Path(os.environ.get("SCREENSHOTS_TO") or Path(tempfile.gettempdir()) / "kiosk-screens")
"""Where the screenshots go: `make screens` sets SCREENSHOTS_TO=docs/screens (the README's pictures); any other
run writes them apart, so a test run leaves the checkout as it was."""
WINDOW = (1024, 768)
"""A 10-inch kiosk touch screen's CSS pixels."""


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    driver = headless_chromium(WINDOW)
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

    def sign_in(self, pin: str = OPERATOR_PIN, role: str = "operator") -> None:
        self.open()
        self.find(f'#screen-sign-in button[data-role="{role}"]').click()
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
        """docs/screens/<name>.png, after the fonts have loaded; then axe-core checks the screen as shown."""
        self.driver.execute_script("return document.fonts.ready")
        SCREENS.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(SCREENS / f"{name}.png")), f"no screenshot of the {name} screen"
        found = self.accessibility()
        if AXE_LOG is not None:
            with open(AXE_LOG, "a") as out:
                out.write(json.dumps({name: found}, ensure_ascii=False) + "\n")
        failing = [v for v in found if v["impact"] in AXE_FAILING]
        assert not failing, f"axe-core finds on the {name} screen: {failing}"

    def accessibility(self) -> list[dict[str, Any]]:
        """axe-core's violations on the page as it is now (and, with AXE_LOG, what it could not decide)."""
        return axe_findings(self.driver, incomplete=AXE_LOG is not None)

    def _visible(self, css: str) -> WebElement | None:
        for found in self.driver.find_elements(By.CSS_SELECTOR, css):
            try:
                if found.is_displayed():
                    return found
            except StaleElementReferenceException:
                continue
        return None

    def wait(self, probe: Callable[[], T | None], failure: str, timeout: float) -> T:
        return wait_on_page(self.driver, probe, failure, timeout, shown=400,
                            context=lambda: f"the terminal is in {type(self.terminal.state).__name__}")


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


class CutPower:
    """Fault points (the harness's seam) where the power goes at one point: at `point` the device thread stops
    dead, so what it did is done and nothing it would have told the loop arrives."""

    def __init__(self, point: str) -> None:
        self._point = point
        self.cut = False

    def reached(self, name: str) -> None:
        if name == self._point and not self.cut:
            self.cut = True
            raise PowerCutError(name)


class PowerCutError(Exception):
    """The device thread's end at a cut: the executor keeps it, nothing is posted."""


StartTerminal = Callable[..., VirtualTerminal]


@pytest.fixture(scope="session")
def matcher() -> FaceMatcher:
    """The terminal's face matcher, its models loaded once for the session."""
    return FaceMatcher()


@dataclass(frozen=True)
class FaceDesk:
    """The real camera (OpenCV playing an image sequence) and the real face check a terminal is given; a case
    steps in front of the camera, and its card photo goes on the virtual card."""

    booth: CameraBooth
    check: CameraFaceCheck
    folder: Path

    def step_in(self, case: FaceCase) -> None:
        self.booth.step_in(write_camera_source(self.folder / case.name, case.live))


@pytest.fixture
def faces(matcher: FaceMatcher, tmp_path: Path) -> Iterator[FaceDesk]:
    booth = CameraBooth()
    try:
        yield FaceDesk(booth, CameraFaceCheck(booth, matcher), tmp_path / "camera")
    finally:
        booth.close()


@pytest.fixture
def start_terminal(district: VirtualDistrict, tmp_path: Path) -> Iterator[StartTerminal]:
    """A terminal with its screen, by name; the same name again stops the running one and starts it afresh on
    the same journal and printer log (a restart). Device fakes go to VirtualTerminal, the rest to the plan."""
    installations: dict[str, Installation] = {}
    running: list[VirtualTerminal] = []

    def stop() -> None:
        for terminal in running:
            terminal.stop()
        running.clear()

    def start(name: str, *, open_polls: bool = True, faults: FaultPoints | None = None, **kwargs: Any
              ) -> VirtualTerminal:
        stop()
        devices = {key: kwargs.pop(key) for key in ("face_check", "health_checks", "camera") if key in kwargs}
        if name not in installations:
            installations[name] = district.provision(name, f"B-{name}", tmp_path / name / "provisioning")
        plan = TerminalPlan(installations[name], tmp_path / name, district.broker.address,
                            screen=True, **kwargs)
        terminal = VirtualTerminal(plan, faults=faults, **devices)
        running.append(terminal)
        terminal.start()
        if open_polls:
            terminal.open_polls()
        return terminal

    yield start
    stop()
