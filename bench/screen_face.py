"""The confirmation screen with the real face check: a card read to the page showing the face verdict, and the
terminal process's resident memory with its web server, face models and camera. The terminal runs in a process
of its own (so its memory is its own), against a real district; its page in Debian's headless Chromium. The card
photo and the camera's frames are the harness's public face fixtures; asserts nothing.

Run: PYTHONPATH=. .venv/bin/python bench/screen_face.py [voters]
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from selenium import webdriver

from drivers.camera.source import ImageSequenceSource
from firmware_app.identity.document import Document
from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from harness.browser import SCREEN_ACT, SCREEN_SIGN_IN, headless_chromium
from harness.camera.booth import CameraBooth
from harness.camera.voters import genuine_cases, write_camera_source
from harness.district import VirtualDistrict
from harness.terminal import OPERATOR_PIN, TerminalPlan, VirtualTerminal
from protocol.messages import DocumentKind
from protocol.mqtt import BrokerAddress
from provisioning.installed import Installation, load_installation

ELECTION_DAY = date(2026, 11, 29)
_WATCH = """
window.__verdicts = [];
new MutationObserver(() => {
  const verdict = document.querySelector("#face-verdict");
  if (verdict) window.__verdicts.push([Date.now(), verdict.className.replace("verdict ", "")]);
}).observe(document.getElementById("view"), {childList: true, subtree: true});
"""


@dataclass(frozen=True)
class Memory:
    rss_kib: int
    peak_kib: int


def _memory() -> Memory:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return Memory(int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))


def _terminal(folder: str, broker: tuple[str, int], camera: str, commands: Connection) -> None:
    """The child: a whole terminal with its screen, the real face check and camera; it inserts the cards it is
    told to and reports its memory."""
    work = Path(folder)
    installation = load_installation(work / "provisioning", datetime.now(UTC))
    if not isinstance(installation, Installation):
        raise SystemExit(f"installation refused: {installation}")
    before_models = _memory()
    matcher = FaceMatcher()
    booth = CameraBooth()
    booth.step_in(ImageSequenceSource(camera))
    terminal = VirtualTerminal(TerminalPlan(installation, work, BrokerAddress(*broker), screen=True),
                               face_check=CameraFaceCheck(booth, matcher), camera=booth)
    terminal.start()
    terminal.open_polls()
    commands.send((terminal.screen_url, before_models))
    while True:
        command = commands.recv()
        match command:
            case ("insert", code, name, photo):
                terminal.reader.insert(Document(DocumentKind.SMART_CARD, code, name, photo=photo))
                commands.send("inserted")
            case ("pull",):
                terminal.reader.pull()
                commands.send("pulled")
            case ("memory",):
                commands.send(_memory())
            case _:
                terminal.stop()
                booth.close()
                commands.send("stopped")
                return


def _wait_verdict(driver: webdriver.Chrome, after: int, timeout: float = 20.0) -> tuple[float, str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        verdicts = driver.execute_script("return window.__verdicts")
        for index in range(after, len(verdicts)):
            if verdicts[index][1] != "pending":
                return float(verdicts[index][0]), str(verdicts[index][1]), index + 1
        time.sleep(0.005)
    raise TimeoutError("the page never showed a face verdict")


def _wait_idle(driver: webdriver.Chrome, timeout: float = 30.0) -> None:
    """The slip is out and the page is back on the idle screen: the next card is read (one inserted earlier, while
    the terminal is still busy with this voter, is refused by the flow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script("return document.querySelector('#view > [data-state]')?.dataset.state") == "Idle":
            return
        time.sleep(0.02)
    raise TimeoutError("the page never came back to the idle screen")


def main() -> None:
    voters = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        district = VirtualDistrict(work / "district", "D01", ELECTION_DAY, voters=voters * 4, seed=11)
        district.start()
        holder = genuine_cases(FaceMatcher().models)[0]
        camera = write_camera_source(work / "camera", holder.live)
        district.provision("T-0001", "B-0001", work / "T-0001" / "provisioning")
        ours, theirs = context.Pipe()
        address = district.broker.address
        child = context.Process(target=_terminal, args=(str(work / "T-0001"), (address.host, address.port),
                                                        camera.pattern, theirs), daemon=True)
        child.start()
        driver = headless_chromium((1024, 768))
        try:
            url, before_models = ours.recv()
            driver.get(url)
            assert driver.execute_async_script(SCREEN_SIGN_IN, OPERATOR_PIN) == 200
            driver.get(url)
            time.sleep(1.0)
            driver.execute_script(_WATCH)
            eligible = [r for r in district.roll if r.status.value == "eligible"][:voters]
            to_verdict: list[float] = []
            verdicts: list[str] = []
            seen = 0
            for record in eligible:
                inserted = time.time() * 1000
                ours.send(("insert", record.national_code, record.name, holder.card_photo))
                ours.recv()
                shown, verdict, seen = _wait_verdict(driver, seen)
                to_verdict.append(shown - inserted)
                verdicts.append(verdict)
                assert driver.execute_async_script(SCREEN_ACT, "confirm") == 200
                _wait_idle(driver)
                ours.send(("pull",))
                ours.recv()
            ours.send(("memory",))
            memory: Memory = ours.recv()
            ours.send(("stop",))
            ours.recv()
        finally:
            driver.quit()
            child.join(timeout=15)
            district.stop()
    print(f"screen with the face check: {voters} voters, verdicts {sorted(set(verdicts))}")
    print(f"  card read -> confirmation screen with the face verdict: median {statistics.median(to_verdict):.0f} ms, "
          f"max {max(to_verdict):.0f} ms (target <= 1 s)")
    print(f"  terminal process resident memory (web server, face models, camera, journal, link): "
          f"{memory.rss_kib / 1024:.0f} MiB now, {memory.peak_kib / 1024:.0f} MiB peak "
          f"({before_models.rss_kib / 1024:.0f} MiB before the face models; target <= 200 MiB)")


if __name__ == "__main__":
    main()
