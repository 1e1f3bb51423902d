"""The one composition root: a terminal (settings, journal, center link, event loop) wired from its parts."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from firmware_app.config import TerminalConfig
from firmware_app.flow.events import DeadlineKind
from firmware_app.flow.notices import Notice
from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from firmware_app.link import LinkReceiver
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.health import HealthCheck, camera_health, link_health, printer_health, reader_health
from firmware_app.runtime.loop import Runtime
from firmware_app.runtime.ports import Devices, OperatorDisplay, RequestChannel
from firmware_app.runtime.settings import DEFAULT_DEADLINES, ElectionOfDay, RuntimeSettings, TerminalIdentity
from firmware_app.screen.app import ScreenContext
from firmware_app.screen.model import Identity, ScreenModel
from firmware_app.screen.photos import LiveView
from firmware_app.screen.server import ScreenServer, StatusWatch
from firmware_app.screen.signin import Officials
from firmware_app.store.journal import Journal
from firmware_app.telemetry.reporter import INTERVAL_S, HealthReporter
from firmware_app.version import VERSION, software_hash
from hal import backends
from hal.camera import Camera
from protocol.minutes import Minutes
from provisioning.installed import Installation
from provisioning.pins import PinHash, Role

JOURNAL_FILE = "journal.db"
SNAPSHOT_FOLDER = "snapshot"
"""Beside the journal: the "already voted" snapshot's signed parts, kept across a restart."""
VOTER_KEY_FILE = "voter-hash.key"
BIRTH_FILE = "birth"
"""The last birth number the terminal announced to its district (firmware_app.telemetry.birth)."""


class Link(RequestChannel, Protocol):
    """The runtime's way to the center: the MQTT `CenterLink` on a device, an in-process center in a bench."""

    @property
    def connected(self) -> bool: ...

    def start(self, receiver: LinkReceiver) -> None: ...

    def wait_connected(self, timeout: float) -> bool: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ScreenPlan:
    """The operator screen: served on 127.0.0.1:`port`, officials signing in with `pins`, a session locked after
    `lock_after_s` without an action, the `camera`'s view shown beside the card photo."""

    port: int
    pins: dict[Role, PinHash]
    lock_after_s: float = 300.0
    camera: Camera | None = None


@dataclass(frozen=True)
class TelemetryPlan:
    """Health reports every `interval_s` (and at once on a change that matters) over a link that says who is online;
    `state_dir` is the disk whose free space is reported."""

    state_dir: Path
    interval_s: float = INTERVAL_S


@runtime_checkable
class TelemetryLink(Link, Protocol):
    """A link that announces the terminal (birth and will) and carries its health reports."""

    @property
    def birth(self) -> int | None: ...

    def publish_health(self, payload: bytes) -> bool: ...


@dataclass(frozen=True)
class Terminal:
    """A wired terminal: the event loop, its journal, its link to the center and, if it has them, its screen and
    health reporter."""

    runtime: Runtime
    link: Link
    journal: Journal
    screen: ScreenServer | None = None
    reporter: HealthReporter | None = None

    def start(self, connect_timeout: float | None = None) -> None:
        """Connect the link, then run the loop. A kiosk runs without the broker (the link keeps reconnecting and
        the self-test reports it); with `connect_timeout`, not reaching the broker by then is an error."""
        self.link.start(self.runtime)
        if connect_timeout is not None and not self.link.wait_connected(connect_timeout):
            self.link.stop()
            raise ConnectionError("the terminal could not reach the broker")
        self.runtime.start()
        if self.screen is not None:
            self.screen.start()
        if self.reporter is not None:
            self.reporter.start()

    def stop(self) -> None:
        if self.reporter is not None:
            self.reporter.stop()
        if self.screen is not None:
            self.screen.stop()
        self.runtime.stop()
        self.link.stop()
        self.journal.close()


@dataclass(frozen=True)
class OpenedDevices:
    """The devices a config names, opened; `close` releases what the runtime does not close itself."""

    devices: Devices
    camera: Camera | None

    def close(self) -> None:
        self.devices.printer.close()
        if self.devices.indicators is not None:
            self.devices.indicators.close()
        if self.camera is not None:
            self.camera.close()


def identity_of(installation: Installation) -> TerminalIdentity:
    return TerminalIdentity(installation.terminal, installation.branch, installation.district)


def voter_key(state_dir: Path) -> bytes:
    """The per-terminal HMAC secret for national codes at rest: made once, on first start, readable only by us."""
    path = state_dir / VOTER_KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fresh = path.with_suffix(".new")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
            os.fsync(file.fileno())
        os.replace(fresh, path)
    return path.read_bytes()


def settings_for(installation: Installation, state_dir: Path, config: bytes, opens_at: datetime,
                 closes_at: datetime, *, training: bool = False, deadlines: Mapping[DeadlineKind, float] | None = None,
                 resend_interval: float = RuntimeSettings.resend_interval) -> RuntimeSettings:
    """Identity and keys from the installation, the voter key kept in `state_dir`, the hash of the `config` the
    terminal runs with, this software's version; `deadlines` override DEFAULT_DEADLINES kind by kind."""
    return RuntimeSettings(
        identity=identity_of(installation), training=training, center_signing_key=installation.center_signing_key,
        center_sealing_key=installation.center_sealing_key, terminal_signing_key=installation.signing_key,
        voter_key=voter_key(state_dir), software_version=VERSION, software_hash=software_hash(),
        config_hash=hashlib.sha256(config).hexdigest(), opens_at=opens_at, closes_at=closes_at,
        deadlines={**DEFAULT_DEADLINES, **(deadlines or {})}, resend_interval=resend_interval,
        election=ElectionOfDay(installation.election.bundle, installation.election.bundle_hash),
        permit_key=installation.permit_key,
    )


def open_devices(config: TerminalConfig, installation: Installation) -> OpenedDevices:
    """The reader (PC/SC, cards checked against the installed trust anchors), the camera and its face check if
    configured, the serial printer, the GPIO buttons and lamps if enabled, and the health checks of them."""
    reader = CardDocumentReader(backends.open_card_reader(config.card_reader, config.extended_reads),
                                TrustAnchors.load(installation.csca_path), limits=config.card_read_limits)
    checks: list[HealthCheck] = [reader_health(reader)]
    camera: Camera | None = None
    face_check = None
    if config.camera_source is not None:
        camera = backends.open_camera(config.camera_source)
        camera.start()
        face_check = CameraFaceCheck(camera, FaceMatcher())
        checks.append(camera_health(camera))
    devices = Devices(
        printer=backends.open_printer(config.printer_device, config.printer_profile),
        paper_width_dots=backends.paper_width_dots(config.printer_profile), reader=reader,
        buttons=backends.open_buttons() if config.gpio else None,
        indicators=backends.open_indicators() if config.gpio else None, face_check=face_check, health_checks=checks,
    )
    return OpenedDevices(devices, camera)


def assemble(settings: RuntimeSettings, journal: Path, devices: Devices, display: OperatorDisplay, link: Link,
             clock: Callable[[], datetime], faults: FaultPoints | None = None,
             heartbeat: Callable[[], None] | None = None, screen: ScreenPlan | None = None,
             telemetry: TelemetryPlan | None = None) -> Terminal:
    """The terminal's event loop over its journal (opened at `journal`), devices, display and link to the center;
    the link delivers into the loop from `Terminal.start`. `heartbeat` is called on every tick of the loop. With a
    `screen`, notices go to `display` and the screen, which listens to every step and is served from `start`.
    With `telemetry` (the link must then be a TelemetryLink), health reports go to the district."""
    opened = Journal(journal)
    model: ScreenModel | None = None
    if screen is not None:
        identity = settings.identity
        model = ScreenModel(Identity(identity.terminal, identity.branch, settings.training), opened.counts,
                            lambda: _recorded_minutes(opened))
        display = _Displays((display, model))
    runtime = Runtime(settings, opened, link, devices, display, clock, faults, connected=lambda: link.connected,
                      heartbeat=heartbeat or _no_heartbeat, snapshot_folder=journal.parent / SNAPSHOT_FOLDER)
    reporter = _reporter(settings, runtime, link, devices, clock, telemetry) if telemetry is not None else None
    if reporter is not None:
        poke = reporter.poke
        runtime.add_listener(lambda before, _event, result: poke() if type(result.state) is not type(before) else None)
    if screen is None or model is None:
        return Terminal(runtime, link, opened, reporter=reporter)
    model.faults = lambda: runtime.faults
    runtime.add_listener(model.stepped)
    live = LiveView(screen.camera) if screen.camera is not None else None
    context = ScreenContext(runtime, model, Officials(screen.pins, screen.lock_after_s), clock, screen.port, live)
    watch = StatusWatch(model, lambda: link.connected, devices.printer, clock, runtime.device_fault,
                        devices.health_checks)
    return Terminal(runtime, link, opened, ScreenServer(context, watch), reporter)


def _reporter(settings: RuntimeSettings, runtime: Runtime, link: Link, devices: Devices,
              clock: Callable[[], datetime], plan: TelemetryPlan) -> HealthReporter:
    if not isinstance(link, TelemetryLink):
        raise TypeError("health reports need a link that announces the terminal (CenterLink with a StatusPlan)")
    checks = [printer_health(devices.printer), link_health(lambda: link.connected), *devices.health_checks]
    return HealthReporter(settings, runtime, link, checks, plan.state_dir, clock, interval_s=plan.interval_s)


@dataclass(frozen=True)
class _Displays:
    """Every notice to each display in turn (the log and the screen)."""

    displays: tuple[OperatorDisplay, ...]

    def show(self, notice: Notice) -> None:
        for display in self.displays:
            display.show(notice)


def _no_heartbeat() -> None:
    return None


def _recorded_minutes(journal: Journal) -> tuple[Minutes, str] | None:
    recorded = journal.minutes()
    return (recorded.minutes, recorded.minutes_hash) if recorded is not None else None
