"""The operator screen's figures: a flow step to the page showing it, a card to the confirmation screen, the
page's transferred bytes. A real terminal and district, its page in Debian's headless Chromium; asserts nothing.

Run: PYTHONPATH=. .venv/bin/python bench/screen.py [voters]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from selenium import webdriver

from firmware_app.flow import states as st
from firmware_app.flow.events import Event
from firmware_app.flow.step import Step
from firmware_app.identity.document import Document
from harness.browser import SCREEN_ACT, SCREEN_SIGN_IN, headless_chromium
from harness.district import VirtualDistrict
from harness.terminal import OPERATOR_PIN, TerminalPlan, VirtualTerminal
from protocol.messages import DocumentKind

ELECTION_DAY = date(2026, 11, 29)
_WATCH = """
window.__renders = [];
new MutationObserver(() => {
  const shown = document.querySelector("#view > [data-state]");
  if (shown) window.__renders.push([Date.now(), shown.dataset.state]);
}).observe(document.getElementById("view"), {childList: true});
"""
_BYTES = """
const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
return entries.map((e) => [e.name, e.transferSize]);
"""


class StepTimes:
    """When the loop entered each state (wall clock, as the page's Date.now() reads it)."""

    def __init__(self) -> None:
        self.entered: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __call__(self, before: st.State, _event: Event, result: Step[st.State]) -> None:
        if type(result.state) is not type(before):
            with self._lock:
                self.entered.append((time.time() * 1000, type(result.state).__name__))

    def last_before(self, at_ms: float, state: str) -> float | None:
        with self._lock:
            times = [t for t, name in self.entered if name == state and t <= at_ms]
        return times[-1] if times else None


def _wait_render(driver: webdriver.Chrome, state: str, after: int, timeout: float = 15.0) -> tuple[float, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        renders = driver.execute_script("return window.__renders")
        for index in range(after, len(renders)):
            if renders[index][1] == state:
                return float(renders[index][0]), index + 1
        time.sleep(0.005)
    raise TimeoutError(f"the page never showed {state}")


def main() -> None:
    voters = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        district = VirtualDistrict(work / "district", "D01", ELECTION_DAY, voters=voters * 4, seed=11)
        district.start()
        terminal: VirtualTerminal | None = None
        driver = headless_chromium((1024, 768))
        try:
            installation = district.provision("T-0001", "B-0001", work / "T-0001" / "provisioning")
            terminal = VirtualTerminal(TerminalPlan(installation, work / "T-0001", district.broker.address,
                                                    screen=True))
            steps = StepTimes()
            terminal.runtime.add_listener(steps)
            terminal.start()
            terminal.open_polls()
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
            driver.get(terminal.screen_url)
            assert driver.execute_async_script(SCREEN_SIGN_IN, OPERATOR_PIN) == 200
            driver.get(terminal.screen_url)
            time.sleep(1.0)
            transferred = driver.execute_script(_BYTES)
            driver.execute_script(_WATCH)
            eligible = [r for r in district.roll if r.status.value == "eligible"][:voters]
            latencies: list[float] = []
            card_to_confirmation: list[float] = []
            seen = 0
            for record in eligible:
                inserted = time.time() * 1000
                terminal.reader.insert(Document(DocumentKind.SMART_CARD, record.national_code, record.name))
                shown, seen = _wait_render(driver, "AwaitingConfirmation", seen)
                card_to_confirmation.append(shown - inserted)
                assert driver.execute_async_script(SCREEN_ACT, "confirm") == 200
                _, seen = _wait_render(driver, "Idle", seen)
                terminal.reader.pull()
            for shown, state in driver.execute_script("return window.__renders"):
                entered = steps.last_before(float(shown), state)
                if entered is not None:
                    latencies.append(float(shown) - entered)
        finally:
            driver.quit()
            if terminal is not None:
                terminal.stop()
            district.stop()
    page = sum(size for name, size in transferred if "/api/events" not in name)
    print(f"screen: {voters} voters, {len(latencies)} screens shown")
    print(f"  flow step -> page showing it: median {statistics.median(latencies):.1f} ms, "
          f"p95 {statistics.quantiles(latencies, n=20)[-1]:.1f} ms (target <= 50 ms)")
    print(f"  card in the reader -> confirmation screen: median {statistics.median(card_to_confirmation):.0f} ms "
          "(a document without photo: no face check in this figure)")
    print(f"  page transferred, uncached, fonts included: {page / 1024:.0f} KiB in {len(transferred)} requests "
          "(target <= 300 KB)")
    print("  resources: " + json.dumps(sorted(((n.rsplit('/', 1)[-1], s) for n, s in transferred),
                                              key=lambda item: -item[1])[:6], ensure_ascii=False))


if __name__ == "__main__":
    main()
