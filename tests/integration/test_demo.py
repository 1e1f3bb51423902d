"""The demo itself: a whole polling day of a virtual branch, with every rule checked afterwards, each terminal's
screen served from the start, and `--serve` keeping the branch up to be driven by hand until Ctrl-C."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest

from center.registry import MinutesRow, Registry
from center.synthetic_roll import generate_roll
from firmware_app.assembly import JOURNAL_FILE
from firmware_app.store.journal import Journal
from firmware_app.store.minutes import RecordedMinutes
from harness.browser import headless_chromium
from harness.card.pcscd import Pcscd
from harness.demo import LOST_BRANCH, LOST_TERMINAL, DemoReport, Engine, run_demo
from protocol.messages import MinutesOutcome
from tests.dashboard.conftest import WINDOW
from tests.dashboard.page import Page

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCREEN_LINE = re.compile(r"(?P<name>T-\S+) screen: (?P<url>http://127\.0\.0\.1:\d+/)\s+"
                         r"operator PIN (?P<operator>\d{6}), head PIN (?P<head>\d{6})")
DASHBOARD_LINE = re.compile(r"District dashboard: (?P<url>https://127\.0\.0\.1:\d+/)\s+staff (?P<staff>\S+), "
                            r"password (?P<password>\S+) .* district CA (?P<ca>\S+)\)")
LINE_WAIT_S = 300.0
"""How long a test waits for the demo's next expected line before it gives up (a safety stop, not a figure)."""


@dataclass(frozen=True)
class Screen:
    name: str
    url: str
    operator_pin: str

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])


def _request(url: str, method: str = "GET", body: dict[str, object] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, bytes, list[str]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (response.status, response.headers.get("content-type", ""), response.read(),
                    response.headers.get_all("set-cookie") or [])
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("content-type", ""), refused.read(), []


class Operator:
    """The operator at one screen, over plain HTTP as the kiosk page talks to it."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._own = {"Origin": screen.url.rstrip("/"), "Content-Type": "application/json"}
        self._cookie = ""

    def page(self) -> bytes:
        status, kind, body, _ = _request(self.screen.url)
        assert status == 200 and kind.startswith("text/html"), (status, kind)
        return body

    def sign_in(self) -> None:
        status, _, body, cookies = _request(self.screen.url + "api/sign-in", "POST",
                                            {"role": "operator", "pin": self.screen.operator_pin}, self._own)
        assert status == 200 and json.loads(body)["signed_in"], body
        self._cookie = cookies[0].split(";")[0]

    def snapshot(self) -> dict[str, Any]:
        status, kind, body, _ = _request(self.screen.url + "api/snapshot", headers={"Cookie": self._cookie})
        assert status == 200 and kind.startswith("application/json"), (status, body)
        found: dict[str, Any] = json.loads(body)
        return found

    def act(self, action: str, seen: int) -> dict[str, Any]:
        status, _, body, _ = _request(self.screen.url + "api/action", "POST", {"action": action, "seen": seen},
                                      {**self._own, "Cookie": self._cookie})
        assert status == 200, (status, body)
        found: dict[str, Any] = json.loads(body)
        return found

    def wait_for(self, state: str, attempts: int = 600) -> dict[str, Any]:
        """The snapshot once the screen shows `state` (and, for a confirmation, the face check's verdict)."""
        for _ in range(attempts):
            shown = self.snapshot()
            face = shown["state"].get("face", {}).get("verdict")
            if shown["state"]["type"] == state and face != "pending":
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{self.screen.name}'s screen never showed {state}; it shows {shown['state']}")


@dataclass(frozen=True)
class Board:
    url: str
    staff: str
    password: str
    ca: Path

    def seen(self) -> tuple[dict[str, Any], bytes]:
        """Signed in over TLS with a client that trusts only the district CA: the snapshot, and every byte the
        dashboard answered (page, session, snapshot, metrics)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        own = {"Origin": self.url.rstrip("/"), "Content-Type": "application/json"}

        def call(path: str, method: str = "GET", body: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes, list[str]]:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return response.status, response.read(), response.headers.get_all("set-cookie") or []

        page_status, page, _ = call("")
        status, signed, cookies = call("api/sign-in", "POST", {"staff": self.staff, "password": self.password}, own)
        assert (page_status, status) == (200, 200), (page_status, status, signed)
        cookie = {"Cookie": cookies[0].split(";")[0]}
        _, raw, _ = call("api/snapshot", headers=cookie)
        _, results, _ = call("api/results", headers=cookie)
        _, metrics, _ = call("metrics", headers=cookie)
        found: dict[str, Any] = json.loads(raw)
        return found, page + signed + raw + results + metrics


def _staff_see_paper_out_and_offline_red(board: Board) -> None:
    """In Chromium, while the demo's paper is out and its lost terminal is gone: both red with their reasons."""
    browser = headless_chromium(WINDOW, accept_insecure_certs=True)
    try:
        page = Page(browser, board.url)
        browser.get(board.url)
        page.sign_in(board.staff, board.password)
        paper = page.find('#branches [data-terminal="T-0101-2"][data-colour="red"]')
        assert "چاپگر: کاغذ تمام شده" in paper.text, paper.text
        offline = page.find(f'#branches [data-terminal="{LOST_TERMINAL}"][data-colour="red"]')
        assert "بی‌ارتباط: پیام خداحافظی کارگزار" in offline.text, offline.text
        assert page.find('#branches [data-terminal="T-0101-1"]').get_attribute("data-colour") != "red"
        page.text_of('#branches [data-branch="B-0102"]', "شعبه باز نشده")
        page.screenshot("dashboard-demo")
    finally:
        browser.quit()


def _journaled_minutes(work_dir: Path) -> RecordedMinutes | None:
    journal = Journal(work_dir / JOURNAL_FILE)
    try:
        return journal.minutes()
    finally:
        journal.close()


def _minutes_at_the_center(district_dir: Path, branch: str) -> list[MinutesRow]:
    """The minutes the district's registry file keeps for `branch` (the voter key only hashes national codes,
    which this read never touches)."""
    registry = Registry(district_dir / "registry.db", date.today(), voter_key=bytes(32))
    try:
        return [row for row in registry.minutes_of("D01") if row.requester.branch == branch]
    finally:
        registry.close()


def _the_day_ends_with_the_branch_minutes(report: DemoReport, lines: list[str], out: Path) -> None:
    """T-0101-1's minutes: the typo caught, then recorded once at the district, which sums exactly what was
    entered; B-0103 lost its terminal before any minutes, so it is missing; the JSON report carries it all."""
    assert "T-0101-1: the two entries of the minutes differ at counts.PRES.votes.P01; neither is kept" in lines, (
        "the double entry's catch of the head of branch's slip of the pen was not narrated")
    held = _journaled_minutes(out / "T-0101-1")
    assert held is not None and held.outcome is MinutesOutcome.RECORDED, held
    assert _journaled_minutes(out / "T-0101-2") is None, "the branch's minutes are entered on one terminal only"
    minutes = held.minutes
    assert minutes.officials == ("head", "operator") and minutes.failed == (), minutes
    assert any(f"printed with their hash {held.minutes_hash[:16]}" in line for line in lines), (
        "the printed copy's QR did not carry the journaled minutes' hash")
    kept = [(row.minutes_hash, row.requester.terminal) for row in _minutes_at_the_center(out / "district", "B-0101")]
    assert kept == [(held.minutes_hash, "T-0101-1")], f"the center should hold T-0101-1's minutes once: {kept}"
    entered = {(count.election, vote.candidate): vote.votes for count in minutes.figures.counts for vote in count.votes}
    summed = {(e.election, c.candidate): c.votes for e in report.minutes.elections for c in e.candidates}
    assert summed == entered, f"the district's totals {summed} are not the minutes entered {entered}"
    [president] = report.minutes.elections
    assert president.in_box == president.committed_slips == report.issued - report.outage.double_votes, (
        "a ballot in the box for each slip the center holds committed (a double vote's second slip is not one)")
    assert president.turnout_percent == "100.00"
    assert report.minutes.counted == ["B-0101"] and LOST_BRANCH in report.minutes.missing, report.minutes
    assert report.minutes.flags == [], "figures that pass every check, from one terminal of the branch: no flag"
    carried = json.loads(json.dumps(asdict(report), ensure_ascii=False))["minutes"]
    assert carried["missing"] == report.minutes.missing and carried["flags"] == []
    assert {(c["candidate"], c["votes"]) for c in carried["elections"][0]["candidates"]} == {
        (candidate, votes) for (_, candidate), votes in entered.items()}, carried


def _the_outage_is_handled_under_a_permit_and_reconciled(report: DemoReport, lines: list[str]) -> None:
    """Both terminals go OFFLINE under the district's permit; the snapshot catches a voter of the morning, the
    journal a voter again at the same terminal, the limit the third slip; the voter who went to both terminals is
    found as a double vote, and the rest issued, all in the JSON report."""
    outage = report.outage
    assert (outage.offline_slips, outage.snapshot_hits_refused, outage.already_issued_here, outage.issued_at_branch,
            outage.over_limit) == (3, 1, 1, 1, 1), outage
    assert outage.reconciled == {"double_vote": 1, "issued": 2} and outage.double_votes == 1, outage
    assert outage.snapshot_voters > 0, "the snapshot held the morning's voters"
    assert sum("OFFLINE under the permit" in line for line in lines) == 2, "both terminals activated by the code"
    doubles = [line for line in lines if line.startswith("  double vote found: T-0101-")]
    assert len(doubles) == 1 and doubles[0].startswith("  double vote found: T-0101-2") and (
        "after T-0101-1" in doubles[0]), "the OFFLINE slip of the voter served online just before the outage"
    assert any(line.startswith("the district dashboard, reconciliation of B-0101 (red)") for line in lines), lines
    assert sum(line.startswith("  double vote on the dashboard: ") for line in lines) == 1
    carried = json.loads(json.dumps(asdict(report), ensure_ascii=False))["outage"]
    assert carried["reconciled"] == {"double_vote": 1, "issued": 2} and carried["offline_slips"] == 3


def _serves_its_screen(screen: Screen) -> dict[str, Any]:
    operator = Operator(screen)
    page = operator.page()
    assert b'lang="fa"' in page and b"screen.js" in page
    operator.sign_in()
    shown = operator.snapshot()
    assert shown["status"]["terminal"] == screen.name
    return shown


def test_a_polling_day_keeps_every_rule_and_counts_each_case(
    pcscd: Pcscd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[str] = []
    served: dict[str, dict[str, Any]] = {}
    boards: list[Board] = []
    dashboard: list[tuple[dict[str, Any], bytes]] = []
    browsed: list[str] = []

    def narrate(line: str) -> None:
        lines.append(line)
        board = DASHBOARD_LINE.search(line)
        if board:
            boards.append(Board(board["url"], board["staff"], board["password"], Path(board["ca"])))
        if "the district dashboard shows the alert: tamper" in line:
            dashboard.append(boards[0].seen())
        if line == f"{LOST_TERMINAL}: the district dashboard shows the alert: offline":
            _staff_see_paper_out_and_offline_red(boards[0])
            browsed.append(line)
        found = SCREEN_LINE.search(line)
        if found:
            screen = Screen(found["name"], found["url"], found["operator"])
            served[screen.name] = _serves_its_screen(screen)

    caplog.set_level(logging.DEBUG)
    report = run_demo(voters=4, seed=5, out=tmp_path / "demo", narrate=narrate, pcscd=pcscd)
    assert report.violations == [] and report.invariants_ok, "\n".join(lines)
    assert sorted(served) == sorted(report.screens) == ["T-0101-1", "T-0101-2"], "each screen, printed at start"
    assert len(set(report.screens.values())) == 2, "each terminal's screen on a port of its own"
    assert (report.duplicates_refused, report.ineligible, report.rejected_documents) == (1 + 3, 3, 1), (
        "the voter again online, and offline the snapshot's hit, a slip here already and one at the other terminal")
    assert (report.operator_rejected, report.voided, report.reprinted, report.face_overrides) == (1, 1, 1, 1)
    assert report.issued == 4 + 4 + 1 + 3, "ordinary voters, the override, the typed code, the retry, the reprint, " \
                                           "the voter just before the outage, and the outage's OFFLINE slips"
    assert report.unresolved == 0
    _the_outage_is_handled_under_a_permit_and_reconciled(report, lines)
    _the_day_ends_with_the_branch_minutes(report, lines, tmp_path / "demo")
    assert {"printer", "tamper", "not_opened", "offline"} <= set(report.alerts), report.alerts
    assert browsed, "the browser never saw the dashboard while the paper was out and the lost terminal offline"
    [(shown, answered)] = dashboard
    conditions = {(alert["terminal"], alert["condition"]) for alert in shown["alerts"]}
    assert {("T-0101-2", "printer"), ("T-0101-2", "tamper"), (LOST_TERMINAL, "offline")} <= conditions, shown["alerts"]
    roll = generate_roll(300, 5, date.today())
    secrets = [r.national_code.digits.encode() for r in roll] + [r.name.encode() for r in roll]
    assert not [s for s in secrets if s in answered], "a national code or name in a dashboard response"
    assert b"\xff\xd8\xff" not in answered, "a photo in a dashboard response"
    logged = caplog.text + "\n".join(lines)
    assert caplog.records, "the run logged nothing, so the scan below would prove nothing"
    assert not [r for r in roll if r.national_code.digits in logged], "a national code reached a log line"
    assert not [line for line in caplog.messages if re.search(r"PIN \d{6}", line)], "a PIN reached the log"
    stores = [*(tmp_path / "demo").glob("T-0101-*/journal.db*"), *(tmp_path / "demo/district").glob("registry.db*")]
    assert stores and not [p for p in stores if b"\xff\xd8\xff" in p.read_bytes()], "a face image was stored"
    slips = sorted((tmp_path / "demo").glob("T-0101-*/slips/page-*.png"))
    assert len(slips) >= report.issued + 6, "every slip, the torn one, the zero and closing reports, the minutes"


@pytest.mark.real_peer
def test_the_same_day_runs_on_postgresql_the_national_engine(pcscd: Pcscd, tmp_path: Path) -> None:
    lines: list[str] = []
    report = run_demo(voters=2, seed=9, out=tmp_path / "demo", narrate=lines.append, pcscd=pcscd,
                      registry=Engine.POSTGRESQL)
    assert any(line.startswith("Registry: PostgreSQL") for line in lines), lines[:3]
    assert report.violations == [] and report.invariants_ok, "\n".join(lines)
    assert report.issued == 2 + 4 + 1 + 3 and report.duplicates_refused == 1 + 3 and report.unresolved == 0
    assert report.outage.reconciled == {"double_vote": 1, "issued": 2}, report.outage
    assert not (tmp_path / "demo" / "district" / "registry.db").exists(), "the SQLite registry was used"


class DemoProcess:
    """`python -m harness.demo --serve` in a session of its own, as from a terminal: its console read line by
    line, its card desk written to; Ctrl-C is SIGINT to its whole process group."""

    def __init__(self, out: Path, pcscd: Pcscd) -> None:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harness.demo", "--serve", "--voters", "2", "--seed", "11", "--out", str(out),
             "--vpcd-port", str(pcscd.port)],
            cwd=ROOT, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.errors: list[str] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(target=self._read_console, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._read_errors, args=(self.process.stderr,), daemon=True).start()

    def _read_console(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_errors(self, stream: IO[str]) -> None:
        for line in stream:
            self.errors.append(line.rstrip("\n"))

    def until(self, pattern: str) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                raise AssertionError(f"the demo never printed {pattern!r}; it printed {self.seen[-20:]}") from None
            if line is None:
                raise AssertionError(f"the demo ended before {pattern!r}: {self.seen[-20:]} {self.errors[-20:]}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def desk(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=120)
        while (line := self.lines.get(timeout=LINE_WAIT_S)) is not None:
            self.seen.append(line)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def demo(pcscd: Pcscd, tmp_path: Path) -> Iterator[DemoProcess]:
    running = DemoProcess(tmp_path / "demo", pcscd)
    try:
        yield running
    finally:
        running.kill()


def test_serve_keeps_the_screens_up_after_the_day_for_a_person_and_ctrl_c_stops_everything(
    demo: DemoProcess, tmp_path: Path
) -> None:
    screens = [Screen(found["name"], found["url"], found["operator"])
               for found in (demo.until(SCREEN_LINE.pattern), demo.until(SCREEN_LINE.pattern))]
    assert len({screen.port for screen in screens}) == 2
    demo.until(r"^serving: ")
    for screen in screens:
        shown = _serves_its_screen(screen)
        assert shown["state"]["type"] == "Idle", "after the scripted voters the polls are still open"
        assert shown["status"]["counters"]["issued"] >= 1, "the scripted voters were served before"

    demo.desk("voters 280")
    eligible = demo.until(r"^\s*(\d+)  \d{10}  eligible ")
    operator = Operator(screens[0])
    operator.sign_in()
    issued = operator.snapshot()["status"]["counters"]["issued"]
    demo.desk(f"insert 1 {eligible[1]}")
    demo.until(rf"^{screens[0].name}: the card of voter {eligible[1]} .* is in the reader")
    shown = operator.wait_for("AwaitingConfirmation")
    assert shown["state"]["face"]["verdict"] == "match"
    assert operator.act("confirm", shown["seen"])["accepted"]
    after = operator.wait_for("Idle")
    assert after["status"]["counters"]["issued"] == issued + 1, "a voter served by hand, from the screen"
    demo.desk("remove 1")
    demo.until(rf"^{screens[0].name}: the card is out of the reader")

    assert demo.ctrl_c() == 0, demo.seen[-20:] + demo.errors[-20:]
    assert "stopping" in demo.seen and any("invariants           OK" in line for line in demo.seen)
    assert not [line for line in demo.errors if "Traceback" in line], demo.errors
    with pytest.raises(ProcessLookupError):
        os.killpg(demo.process.pid, 0)
    for screen in screens:
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", screen.port), timeout=5):
            pass


def test_kiosk_demo_runs_the_demo_from_the_source_tree(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "firmware_app.cli", "demo", "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "--serve" in result.stdout and "--screen-port" in result.stdout
