"""`kiosk run`: the terminal service, assembled from its config file and its provisioning, run under systemd."""

from __future__ import annotations

import argparse
import hashlib
import logging
import secrets
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware_app.config import ConfigProblems, TerminalConfig, load_config
from firmware_app.flow.events import DeadlineKind
from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from firmware_app.link import CenterLink
from firmware_app.runtime.health import HealthCheck, camera_health, reader_health
from firmware_app.runtime.loop import Runtime
from firmware_app.runtime.ports import Devices
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.store.journal import Journal
from firmware_app.version import VERSION, software_hash
from hal import backends
from hal.camera import Camera
from protocol import logs
from protocol.mqtt import BrokerAddress
from protocol.sd_notify import SystemdNotifier
from provisioning.installed import Installation, load_installation
from provisioning.refusals import ProvisioningRefusal

log = logging.getLogger("kiosk")

DEADLINES = {DeadlineKind.RESERVE: 3.0, DeadlineKind.COMMIT: 3.0, DeadlineKind.OPEN: 5.0, DeadlineKind.CLOSE: 5.0}
DEFAULT_CONFIG = Path("/etc/kiosk/terminal.toml")


def poll_window(opening: time, closing: time, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """Today's opening and closing instants in the branch's zone; a closing before the opening is next day."""
    day = now.astimezone(zone).date()
    opens = datetime.combine(day, opening, zone)
    closes = datetime.combine(day, closing, zone)
    if closes <= opens:
        closes += timedelta(days=1)
    return opens, closes


class OperatorLog:
    """Until the operator screen lands, operator messages go to the service's log (the systemd journal)."""

    def show(self, message: str) -> None:
        log.info("operator: %s", message)


@dataclass
class Terminal:
    runtime: Runtime
    link: CenterLink
    camera: Camera | None


def build_terminal(config: TerminalConfig, config_bytes: bytes, installation: Installation,
                   notifier: SystemdNotifier, now: datetime) -> Terminal:
    identity = TerminalIdentity(installation.terminal, installation.branch, installation.district)
    opens_at, closes_at = poll_window(installation.opening, installation.closing, config.timezone, now)
    settings = RuntimeSettings(
        identity=identity, training=config.training, center_signing_key=installation.center_signing_key,
        center_sealing_key=installation.center_sealing_key, terminal_signing_key=installation.signing_key,
        voter_key=_voter_key(config.state_dir), software_version=VERSION, software_hash=software_hash(),
        config_hash=hashlib.sha256(config_bytes).hexdigest(), opens_at=opens_at, closes_at=closes_at,
        deadlines=DEADLINES,
    )
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
        paper_width_dots=backends.paper_width_dots(config.printer_profile),
        reader=reader, buttons=backends.open_buttons() if config.gpio else None,
        indicators=backends.open_indicators() if config.gpio else None, face_check=face_check, health_checks=checks,
    )
    runtime: Runtime | None = None

    def answer(payload: bytes) -> None:
        if runtime is not None:
            runtime.answer_arrived(payload)

    def broadcast(payload: bytes) -> None:
        if runtime is not None:
            runtime.broadcast_arrived(payload)

    def connection(connected: bool) -> None:
        if runtime is not None:
            runtime.connection_changed(connected)

    link = CenterLink(identity, BrokerAddress(config.broker_host, config.broker_port), answer, connection,
                      broadcast, installation.tls)
    runtime = Runtime(settings, Journal(config.state_dir / "journal.db"), link, devices, OperatorLog(),
                      lambda: datetime.now(UTC), connected=lambda: link.connected, heartbeat=notifier.ping)
    return Terminal(runtime, link, camera)


def _voter_key(state_dir: Path) -> bytes:
    """The per-terminal HMAC secret for national codes at rest; made on first start, 0600."""
    path = state_dir / "voter-hash.key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(secrets.token_bytes(32))
    return path.read_bytes()


def command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kiosk run", description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args(argv)
    logs.configure(logging.INFO)
    config = load_config(args.config)
    if isinstance(config, ConfigProblems):
        print("\n".join(config.problems), file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    installation = load_installation(config.provisioning_dir, now)
    if isinstance(installation, ProvisioningRefusal):
        print(f"provisioning refused: {installation}", file=sys.stderr)
        return 3
    notifier = SystemdNotifier()
    terminal = build_terminal(config, args.config.read_bytes(), installation, notifier, now)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    terminal.link.start()
    terminal.runtime.start()
    notifier.ready()
    log.info("terminal %s of branch %s running", installation.terminal, installation.branch)
    stop.wait()
    notifier.stopping()
    terminal.runtime.stop()
    terminal.link.stop()
    if terminal.camera is not None:
        terminal.camera.close()
    return 0
