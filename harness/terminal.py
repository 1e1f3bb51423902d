"""A virtual terminal: the real runtime, journal and MQTT link, with in-process devices and a test handle."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from drivers.escpos import SerialPrinter, profile_named
from firmware_app.flow.events import DeadlineKind, Event
from firmware_app.flow.states import Idle, PollsNotOpen, State
from firmware_app.flow.step import Step
from firmware_app.identity.document import DocumentReader
from firmware_app.link import CenterLink
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.health import HealthCheck
from firmware_app.runtime.loop import Runtime
from firmware_app.runtime.ports import Devices, FaceCheck
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.store.journal import Journal, TxRecord
from firmware_app.version import VERSION, software_hash
from hal.buttons import Buttons
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
from harness.slip_evidence import jobs_from_pages
from protocol.mqtt import BrokerAddress, TlsFiles
from protocol.seal import generate_signing_key, load_key, public_part, save_key
from provisioning.installed import Installation

DEFAULT_DEADLINES = {DeadlineKind.RESERVE: 2.0, DeadlineKind.COMMIT: 2.0, DeadlineKind.OPEN: 3.0,
                     DeadlineKind.CLOSE: 3.0}


@dataclass(frozen=True)
class TerminalPlan:
    """Everything a virtual terminal is made from."""

    identity: TerminalIdentity
    work_dir: Path
    broker: BrokerAddress
    center_signing_key: OKPKey
    center_sealing_key: OKPKey
    training: bool = False
    deadlines: dict[DeadlineKind, float] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    tls: TlsFiles | None = None
    resend_interval: float = 1.0
    serial_printer: str | None = None
    """A printer profile name: print through the real ESC/POS driver to a virtual printer on a pty."""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    signing_key: OKPKey | None = None
    """The provisioned request-signing key; a terminal that was never provisioned makes one of its own."""

    @classmethod
    def provisioned(cls, installation: Installation, work_dir: Path, broker: BrokerAddress,
                    **options: Any) -> TerminalPlan:
        """A terminal as its installed enrolment bundle describes it: identity, TLS, center and signing keys."""
        identity = TerminalIdentity(installation.terminal, installation.branch, installation.district)
        return cls(identity, work_dir, broker, installation.center_signing_key, installation.center_sealing_key,
                   tls=installation.tls, signing_key=installation.signing_key, **options)


class ShiftedClock:
    """The terminal's clock: real UTC time, which the demo may move forward (to reach the closing hour)."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> None:
        self._offset += by


def voter_key_for(work_dir: Path) -> bytes:
    """The terminal's HMAC secret, made once and kept beside its journal."""
    path = work_dir / "voter-hash.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
    return path.read_bytes()


def signing_key_for(work_dir: Path) -> OKPKey:
    """The terminal's Ed25519 request-signing key, made once and kept beside its journal (0600)."""
    path = work_dir / "signing.key.pem"
    if not path.exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        save_key(generate_signing_key(), path, private=True)
    return load_key(path)


def evidence_from(work_dir: Path, terminal: str) -> TerminalEvidence:
    """What a terminal left in its folder (journal and printer log), read on a connection of our own."""
    journal = Journal(work_dir / "journal.db")
    try:
        return TerminalEvidence(terminal, journal.transactions(), journal.audit_entries(),
                                LoggingPrinter(work_dir / "printer.jsonl").jobs())
    finally:
        journal.close()


class VirtualTerminal:
    """Starts a whole terminal; the test handle inserts cards, presses buttons and waits for states."""

    def __init__(self, plan: TerminalPlan, faults: FaultPoints | None = None,
                 echo: Callable[[str], None] | None = None, card_reader: DocumentReader | None = None,
                 face_check: FaceCheck | None = None, buttons: Buttons | None = None,
                 indicators: Indicators | None = None, health_checks: list[HealthCheck] | None = None) -> None:
        plan.work_dir.mkdir(parents=True, exist_ok=True)
        self.plan = plan
        self.clock = ShiftedClock()
        self.printer = LoggingPrinter(plan.work_dir / "printer.jsonl")
        self.paper: VirtualPrinter | None = None
        device: Printer = self.printer
        width = profile_named("generic-80").dots_per_line
        if plan.serial_printer is not None:
            profile = profile_named(plan.serial_printer)
            path, self.paper = open_virtual_printer(profile, plan.work_dir / "slips")
            device, width = SerialPrinter(path, profile), profile.dots_per_line
        self._device = device
        self.reader = ScriptedReader()
        self.display = RecordingDisplay(echo)
        self.indicators = RecordingIndicators()
        self.journal = Journal(plan.work_dir / "journal.db")
        self.signing_key = plan.signing_key or signing_key_for(plan.work_dir)
        now = self.clock()
        settings = RuntimeSettings(
            identity=plan.identity, training=plan.training, center_signing_key=plan.center_signing_key,
            center_sealing_key=plan.center_sealing_key, terminal_signing_key=self.signing_key,
            voter_key=voter_key_for(plan.work_dir),
            software_version=VERSION, software_hash=software_hash(), config_hash=hashlib.sha256(
                repr(plan).encode()).hexdigest(),
            opens_at=plan.opens_at or now - timedelta(hours=1), closes_at=plan.closes_at or now + timedelta(hours=12),
            deadlines=plan.deadlines, resend_interval=plan.resend_interval,
        )
        self._changed = threading.Condition()
        self.history: list[tuple[State, Event, Step]] = []
        self._mark = 0
        self.answers_received: list[bytes] = []
        """Every payload that reached this terminal's answer topic, as it came off the wire."""
        self.link = CenterLink(plan.identity, plan.broker, self._answer, self._connection, self._broadcast,
                               plan.tls)
        equipment = Devices(printer=device, paper_width_dots=width, reader=card_reader or self.reader,
                            buttons=buttons, indicators=indicators or self.indicators, face_check=face_check,
                            health_checks=health_checks or [])
        self.runtime = Runtime(settings, self.journal, self.link, equipment, self.display, self.clock, faults,
                               connected=lambda: self.link.connected)
        self.runtime.add_listener(self._record)

    @property
    def signing_public(self) -> OKPKey:
        """The public half of the terminal's request-signing key, for the district to enrol."""
        return public_part(self.signing_key)

    def _answer(self, payload: bytes) -> None:
        self.answers_received.append(payload)
        self.runtime.answer_arrived(payload)

    def _broadcast(self, payload: bytes) -> None:
        self.runtime.broadcast_arrived(payload)

    def _connection(self, connected: bool) -> None:
        self.runtime.connection_changed(connected)

    def _record(self, before: State, event: Event, result: Step) -> None:
        with self._changed:
            self.history.append((before, event, result))
            self._changed.notify_all()

    def start(self, connect_timeout: float = 10.0) -> None:
        self.link.start()
        if not self.link.wait_connected(connect_timeout):
            raise RuntimeError("the terminal could not reach the broker")
        self.runtime.start()

    def stop(self) -> None:
        self.runtime.stop()
        self.link.stop()
        self.journal.close()
        self._device.close()
        if self.paper is not None:
            self.paper.stop()

    def jobs(self) -> list[PrintedJob]:
        """What came out of this terminal's printer, whichever printer it has: slips and reports."""
        return jobs_from_pages(self.paper.pages) if self.paper is not None else self.printer.jobs()

    def slips(self) -> list[PrintedJob]:
        """The voting slips that came out (whole or torn); reports carry no inquiry code."""
        return [job for job in self.jobs() if job.qr]

    def open_polls(self) -> None:
        """The operator opens the polls: self-test, zero report, the center's acknowledgement."""
        self.wait_for(PollsNotOpen)
        self.runtime.request_open()
        self.wait_for(Idle, timeout=20)

    @property
    def state(self) -> State:
        return self.runtime.state

    def post(self, event: Event) -> None:
        self.runtime.post(event)

    def act(self, event: Event, timeout: float = 10.0) -> Step:
        """Post an operator's event and wait until the loop has taken it; return its step."""
        seen = self.steps_seen()
        self.runtime.post(event)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(seen, len(self.history)):
                    _before, taken, result = self.history[index]
                    if taken is event:
                        self._mark = index
                        return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the loop did not take {type(event).__name__}")
                self._changed.wait(remaining)

    def wait_for(self, kind: type[State] | tuple[type[State], ...], timeout: float = 10.0) -> State:
        """Wait for the next step (after the last one waited for or acted on) that leads to this kind of state.

        Steps are read from the history, so a state the loop passes through quickly is not missed.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(self._mark, len(self.history)):
                    state = self.history[index][2].state
                    if isinstance(state, kind):
                        self._mark = index + 1
                        return state
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"terminal stayed in {type(self.runtime.state).__name__}, "
                                       f"expected {kind}; last messages: {self.display.messages[-3:]}")
                self._changed.wait(remaining)

    def transactions(self) -> list[TxRecord]:
        """The journal's transactions, read on a connection of the caller's own."""
        return evidence_from(self.plan.work_dir, self.plan.identity.terminal).transactions

    def evidence(self) -> TerminalEvidence:
        found = evidence_from(self.plan.work_dir, self.plan.identity.terminal)
        return TerminalEvidence(found.terminal, found.transactions, found.audit, self.jobs())

    def wait_until(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        """Poll a condition on the journal or the devices until it holds (background work has no state)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(0.05)

    def steps_seen(self) -> int:
        with self._changed:
            return len(self.history)
