"""A virtual terminal: the real runtime, journal and MQTT link, with in-process devices and a test handle."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drivers.escpos import profile_named
from firmware_app.assembly import (
    BIRTH_FILE,
    JOURNAL_FILE,
    ScreenPlan,
    TelemetryPlan,
    assemble,
    identity_of,
    settings_for,
)
from firmware_app.flow.events import DeadlineKind
from firmware_app.flow.states import Idle, PollsClosed, PollsNotOpen
from firmware_app.identity.document import DocumentReader
from firmware_app.link import CenterLink
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.health import HealthCheck
from firmware_app.runtime.ports import Devices, FaceCheck
from firmware_app.runtime.settings import TerminalIdentity
from firmware_app.store.journal import Journal, TxRecord
from firmware_app.telemetry.birth import BirthCounter
from firmware_app.telemetry.status import StatusPlan
from hal import backends
from hal.buttons import Buttons
from hal.camera import Camera
from hal.indicators import Indicators
from hal.printer import Printer
from harness.fakes import (
    LoggingPrinter,
    PrintedJob,
    RecordingDisplay,
    RecordingIndicators,
    ScriptedReader,
)
from harness.invariants import TerminalEvidence
from harness.printer.pty_pair import open_virtual_printer
from harness.printer.virtual import VirtualPrinter
from harness.slip_evidence import is_slip, jobs_from_pages, minutes_hash_on
from harness.steps import StepLog
from protocol.mqtt import BrokerAddress
from provisioning.installed import Installation
from provisioning.pins import PINS_FILE, Role, load_pins, set_pin

SHORT_DEADLINES = {DeadlineKind.RESERVE: 2.0, DeadlineKind.COMMIT: 2.0, DeadlineKind.OPEN: 3.0,
                   DeadlineKind.CLOSE: 3.0, DeadlineKind.MINUTES: 3.0}
"""A virtual terminal waits less than a kiosk, so tests that play a silent center end sooner."""

OPERATOR_PIN = "246810"
HEAD_PIN = "135790"
"""The PINs a virtual terminal's officials sign in with at its screen."""


@dataclass(frozen=True)
class TerminalPlan:
    """Everything a virtual terminal is made from: its installed enrolment bundle and how the test runs it."""

    installation: Installation
    work_dir: Path
    broker: BrokerAddress
    training: bool = False
    deadlines: Mapping[DeadlineKind, float] = field(default_factory=lambda: dict(SHORT_DEADLINES))
    resend_interval: float = 1.0
    serial_printer: str | None = None
    """A printer profile name: print through the real ESC/POS driver to a virtual printer on a pty."""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    screen: bool = False
    """Serve the operator screen on a loopback port, with OPERATOR_PIN and HEAD_PIN set unless `pins_file`."""
    screen_lock_after_s: float = 300.0
    screen_port: int | None = None
    """The screen's port; None: a free one."""
    telemetry_interval_s: float | None = 30.0
    """Health reports to the district this often (and the birth and will of each connection); None: none."""
    pins_file: Path | None = None
    """The officials' PIN file the screen loads, as `kiosk-provision set-pin` writes it and `kiosk run` reads it;
    None: OPERATOR_PIN and HEAD_PIN, set in the work folder."""

    @property
    def identity(self) -> TerminalIdentity:
        return identity_of(self.installation)

    def describe(self) -> bytes:
        """What the virtual terminal runs with, as the config it hashes."""
        return repr((self.identity, self.training, sorted(self.deadlines.items()), self.resend_interval,
                     self.serial_printer, self.opens_at, self.closes_at)).encode()


class ShiftedClock:
    """The terminal's clock: real UTC time, which the demo may move forward (to reach the closing hour)."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> None:
        self._offset += by


def evidence_from(work_dir: Path, terminal: str) -> TerminalEvidence:
    """What a terminal left in its folder (journal and printer log), read on a connection of our own."""
    journal = Journal(work_dir / JOURNAL_FILE)
    try:
        return TerminalEvidence(terminal, journal.transactions(), journal.audit_entries(),
                                LoggingPrinter(work_dir / "printer.jsonl").jobs(), journal.offline_slips())
    finally:
        journal.close()


class VirtualTerminal(StepLog):
    """A whole terminal, assembled as a kiosk is; the test handle inserts cards, presses buttons and waits for
    states. Devices not given are in-process fakes; the printer is a logging one unless the plan names a
    serial profile."""

    def __init__(self, plan: TerminalPlan, faults: FaultPoints | None = None,
                 echo: Callable[[str], None] | None = None, card_reader: DocumentReader | None = None,
                 face_check: FaceCheck | None = None, buttons: Buttons | None = None,
                 indicators: Indicators | None = None, health_checks: list[HealthCheck] | None = None,
                 camera: Camera | None = None) -> None:
        plan.work_dir.mkdir(parents=True, exist_ok=True)
        self.plan = plan
        self.clock = ShiftedClock()
        self.printer = LoggingPrinter(plan.work_dir / "printer.jsonl")
        self.paper: VirtualPrinter | None = None
        device: Printer = self.printer
        width = backends.paper_width_dots("generic-80")
        if plan.serial_printer is not None:
            path, self.paper = open_virtual_printer(profile_named(plan.serial_printer), plan.work_dir / "slips")
            device = backends.open_printer(path, plan.serial_printer)
            width = backends.paper_width_dots(plan.serial_printer)
        self._device = device
        self.reader = ScriptedReader()
        self.display = RecordingDisplay(echo)
        self.indicators = RecordingIndicators()
        self.answers_received: list[bytes] = []
        """Every payload that reached this terminal's answer topic, as it came off the wire."""
        now = self.clock()
        settings = settings_for(plan.installation, plan.work_dir, plan.describe(),
                                plan.opens_at or now - timedelta(hours=1), plan.closes_at or now + timedelta(hours=12),
                                training=plan.training, deadlines=plan.deadlines, resend_interval=plan.resend_interval)
        status = StatusPlan(plan.installation.signing_key, BirthCounter(plan.work_dir / BIRTH_FILE), self.clock)
        self.link = CenterLink(plan.identity, plan.broker, plan.installation.tls, self.answers_received.append,
                               status=status if plan.telemetry_interval_s is not None else None)
        devices = Devices(printer=device, paper_width_dots=width, reader=card_reader or self.reader,
                          buttons=buttons, indicators=indicators or self.indicators, face_check=face_check,
                          health_checks=health_checks or [])
        self.terminal = assemble(settings, plan.work_dir / JOURNAL_FILE, devices, self.display, self.link,
                                 self.clock, faults, screen=_screen_plan(plan, camera) if plan.screen else None,
                                 telemetry=(TelemetryPlan(plan.work_dir, plan.telemetry_interval_s)
                                            if plan.telemetry_interval_s is not None else None))
        self.journal = self.terminal.journal
        super().__init__(self.terminal.runtime, lambda: f"; last messages: {self.display.messages[-3:]}")

    def start(self, connect_timeout: float = 10.0) -> None:
        self.terminal.start(connect_timeout)

    @property
    def screen_url(self) -> str:
        """Where this terminal's operator screen is served (the plan must ask for one)."""
        if self.terminal.screen is None:
            raise RuntimeError("this virtual terminal serves no screen (TerminalPlan.screen)")
        return self.terminal.screen.url

    def stop(self) -> None:
        self.terminal.stop()
        self._device.close()
        if self.paper is not None:
            self.paper.stop()

    def jobs(self) -> list[PrintedJob]:
        """What came out of this terminal's printer, whichever printer it has: slips and reports."""
        return jobs_from_pages(self.paper.pages) if self.paper is not None else self.printer.jobs()

    def slips(self) -> list[PrintedJob]:
        """The voting slips that came out (whole or torn); reports carry no inquiry code, the minutes their hash."""
        return [job for job in self.jobs() if is_slip(job)]

    def minutes_printed(self) -> list[PrintedJob]:
        """Every copy of the minutes that came out (the QR holds the minutes' hash)."""
        return [job for job in self.jobs() if minutes_hash_on(job) is not None]

    def close_polls(self, timeout: float = 20.0) -> None:
        """The closing hour comes (the terminal's clock moves to it) and the operator closes the polls; the
        center acknowledges, or the wait for it ends."""
        self.clock.advance(max(self.runtime.closes_at - self.clock(), timedelta()) + timedelta(seconds=1))
        self.runtime.request_close()
        self.wait_for(PollsClosed, timeout=timeout)

    def open_polls(self) -> None:
        """The operator opens the polls: self-test, zero report, the center's acknowledgement."""
        self.wait_for(PollsNotOpen)
        self.runtime.request_open()
        self.wait_for(Idle, timeout=20)

    def transactions(self) -> list[TxRecord]:
        """The journal's transactions, read on a connection of the caller's own."""
        return evidence_from(self.plan.work_dir, self.plan.identity.terminal).transactions

    def evidence(self) -> TerminalEvidence:
        found = evidence_from(self.plan.work_dir, self.plan.identity.terminal)
        return TerminalEvidence(found.terminal, found.transactions, found.audit, self.jobs(), found.offline)


def _screen_plan(plan: TerminalPlan, camera: Camera | None) -> ScreenPlan:
    pins = plan.pins_file
    if pins is None:
        pins = plan.work_dir / PINS_FILE
        set_pin(pins, Role.OPERATOR, OPERATOR_PIN)
        set_pin(pins, Role.HEAD, HEAD_PIN)
    return ScreenPlan(plan.screen_port or _free_port(), load_pins(pins), plan.screen_lock_after_s, camera)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
