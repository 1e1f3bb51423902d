"""Fixtures of the dashboard tests: a district's fleet through its real mTLS broker, terminals reporting as they
would, the dashboard served over TLS with a certificate of the district CA, and headless Chromium."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from selenium import webdriver

from center.dashboard.app import DashboardContext, build_app
from center.dashboard.guard import own_hosts
from center.dashboard.server import DashboardServer, ServerTls
from center.dashboard.staff import KdfParams, StaffDesk, load_staff, set_password
from center.fleet import FleetService, FleetSettings
from center.fleet.model import TerminalRecord
from center.fleet.rules import IRAN, RuleSettings
from center.fleet.store import Save, beside_registry, open_fleet_store
from center.pki import KeyAndCertificate, issue_dashboard
from center.reconcile import ReconcileRecord
from center.results import DistrictResults
from harness.broker import free_port
from harness.browser import headless_chromium
from protocol.mqtt import MqttSession
from protocol.telemetry import LinkState
from protocol.topics import status_topic, telemetry_topic
from tests.center.fleet.conftest import FLEET_IDENTITY, FleetDistrict, fleet_district
from tests.center.fleet.samples import APPROVED, Clock, Terminal, eventually

__all__ = ["fleet_district"]
STAFF, PASSWORD = "staff-1", "correct horse battery"
METRICS_TOKEN = "scrape-token-of-the-tests"
FAST = KdfParams(n=2**4)
"""A cheap scrypt for tests; the file keeps the parameters each hash was made with."""
WINDOW = (1366, 1000)
BRANCHES = {"T-1": "B-101", "T-2": "B-101", "T-3": "B-102", "T-4": "B-103"}


@dataclass
class HeldResults:
    """The results and OFFLINE slips the dashboard is given (center.dashboard.app.ResultsView), set by the test."""

    value: DistrictResults | None = None
    offline: list[ReconcileRecord] | None = field(default_factory=list)

    def results(self) -> DistrictResults | None:
        return self.value

    def reconciliation(self) -> list[ReconcileRecord] | None:
        return self.offline


@dataclass
class Dashboard:
    district: FleetDistrict
    fleet: FleetService
    clock: Clock
    terminals: dict[str, Terminal]
    server: DashboardServer
    ca_file: Path
    results: HeldResults

    @property
    def url(self) -> str:
        return self.server.url

    def tls(self) -> ssl.SSLContext:
        """A client that trusts only the district CA and checks the name, as a staff browser set up would."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @contextlib.contextmanager
    def connected(self, terminal: str) -> Iterator[MqttSession]:
        session = self.district.publisher(terminal)
        try:
            yield session
        finally:
            session.stop()


def _earlier_day(store_file: Path, district: str, terminal: Terminal, now: datetime) -> None:
    """The hours before the test, as T-1's reports left them in the store (the chart's past)."""
    store = open_fleet_store(store_file, district)
    for hours_ago in range(6, 0, -1):
        at = now - timedelta(hours=hours_ago)
        terminal.issued += 40 + 7 * hours_ago
        terminal.duplicates += hours_ago % 3
        report = terminal.health()
        record = TerminalRecord(terminal.terminal, terminal.branch, district, terminal.status(), at, report, at,
                                now - timedelta(hours=6), (0,))
        store.save([Save(record, report, at)])
    store.close()


@pytest.fixture
def dashboard(fleet_district: FleetDistrict, tmp_path: Path) -> Iterator[Dashboard]:
    clock = Clock()
    terminals = {name: Terminal(name, branch, fleet_district.district) for name, branch in BRANCHES.items()}
    registry = tmp_path / "registry.sqlite"
    now = clock()
    _earlier_day(beside_registry(registry), fleet_district.district, terminals["T-1"], now)
    yesterday = (now.astimezone(IRAN) - timedelta(days=1)).date()
    rules = RuleSettings(yesterday, time(7, 0), approved_software=frozenset({APPROVED}))
    service = FleetService(fleet_district.center_config(registry), FleetSettings(FLEET_IDENTITY, rules,
                                                                                 evaluate_every_s=0.2, evaluate_gap_s=0.05),
                           {name: t.enrolment() for name, t in terminals.items()}, clock)
    service.start()
    assert service.wait_connected(10), "the fleet listener did not connect"
    staff_file = tmp_path / "staff.json"
    assert set_password(staff_file, STAFF, PASSWORD, FAST) is None
    port = free_port()
    issued = issue_dashboard(fleet_district.pki.ca, ["127.0.0.1", "localhost"], tmp_path / "dashboard", now)
    assert isinstance(issued, KeyAndCertificate), issued
    results = HeldResults()
    context = DashboardContext(service, StaffDesk(load_staff(staff_file)), own_hosts(("127.0.0.1", "localhost"), port),
                               METRICS_TOKEN, results)
    server = DashboardServer(build_app(context), "127.0.0.1", port, ServerTls(issued.cert_file, issued.key_file))
    server.start()
    try:
        yield Dashboard(fleet_district, service, clock, terminals, server, fleet_district.pki.ca.ca_path, results)
    finally:
        server.stop()
        service.stop()


def play_the_morning(board: Dashboard) -> None:
    """T-1 reports well, T-2's printer runs out of paper, T-3 leaves (its will) and stays away past 90 s, T-4 is
    never heard: its branch has not opened."""
    district = board.district.district
    for name in ("T-1", "T-2", "T-3"):
        terminal = board.terminals[name]
        terminal.birth = 2
        terminal.issued += 25
        with board.connected(name) as session:
            session.publish(status_topic(district, name), terminal.signed(terminal.status()), retain=True, wait=5)
            printer = "no_paper" if name == "T-2" else "ready"
            report = terminal.health(printer=printer, printer_ok=printer == "ready")
            session.publish(telemetry_topic(district, name), terminal.signed(report), wait=5)
            if name == "T-3":
                will = terminal.signed(terminal.status(LinkState.OFFLINE))
                session.publish(status_topic(district, name), will, retain=True, wait=5)
    eventually(lambda: [v.record.link for v in board.fleet.snapshot().terminals]
               == [LinkState.ONLINE, LinkState.ONLINE, LinkState.OFFLINE, None],
               lambda: f"not every message arrived: {board.fleet.intake_counts()}")
    board.clock.advance(timedelta(seconds=91))
    for name in ("T-1", "T-2"):
        terminal = board.terminals[name]
        printer = "no_paper" if name == "T-2" else "ready"
        with board.connected(name) as session:
            report = terminal.health(printer=printer, printer_ok=printer == "ready")
            session.publish(telemetry_topic(district, name), terminal.signed(report), wait=5)
    eventually(lambda: all(board.fleet.history(name, 1)[0][1].seq == board.terminals[name].seq
                           for name in ("T-1", "T-2")),
               lambda: f"the second reports did not arrive: {board.fleet.intake_counts()}")
    board.fleet.evaluate()


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    driver = headless_chromium(WINDOW, accept_insecure_certs=True)
    try:
        yield driver
    finally:
        driver.quit()
