"""`kiosk run`: the terminal service, assembled from its config file and its provisioning, run under systemd."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware_app.assembly import (
    BIRTH_FILE,
    JOURNAL_FILE,
    OpenedDevices,
    ScreenPlan,
    TelemetryPlan,
    Terminal,
    assemble,
    open_devices,
    settings_for,
)
from firmware_app.config import ConfigProblems, load_config
from firmware_app.flow import texts
from firmware_app.flow.notices import Notice
from firmware_app.link import CenterLink
from firmware_app.telemetry.birth import BirthCounter
from firmware_app.telemetry.status import StatusPlan
from protocol import logs
from protocol.mqtt import BrokerAddress
from protocol.sd_notify import SystemdNotifier
from provisioning.installed import Installation, load_installation
from provisioning.permits import provisioned_permits
from provisioning.pins import PINS_FILE, load_pins
from provisioning.refusals import ProvisioningRefusal

log = logging.getLogger("kiosk")

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
    """Operator messages also go to the service's log (the systemd journal), beside the screen."""

    def show(self, notice: Notice) -> None:
        log.info("operator: %s", texts.render(notice))


@dataclass(frozen=True)
class Kiosk:
    """The terminal `kiosk run` runs: wired, not yet started."""

    terminal: Terminal
    devices: OpenedDevices
    installation: Installation
    permits: tuple[bytes, ...] = ()
    """The offline permits provisioned on the device (`kiosk-provision permit`), handed to the loop at start like
    the district's broadcast of them: the loop verifies each and keeps the new ones."""

    def start(self) -> None:
        self.terminal.start()
        for permit in self.permits:
            self.terminal.runtime.broadcast_arrived(permit)

    def stop(self) -> None:
        self.terminal.stop()
        self.devices.close()


@dataclass(frozen=True)
class StartRefused:
    """The config or the provisioning was refused: what to tell the operator and the exit status."""

    message: str
    status: int


def open_kiosk(config_path: Path, now: datetime, heartbeat: Callable[[], None]) -> Kiosk | StartRefused:
    """Load the config and the installed provisioning, open the devices they name and wire the terminal."""
    config = load_config(config_path)
    if isinstance(config, ConfigProblems):
        return StartRefused("\n".join(config.problems), 2)
    installation = load_installation(config.provisioning_dir, now)
    if isinstance(installation, ProvisioningRefusal):
        return StartRefused(f"provisioning refused: {installation}", 3)
    try:
        pins = load_pins(config.provisioning_dir / PINS_FILE)
    except (OSError, ValueError, KeyError) as exc:
        return StartRefused(f"the officials' PIN file was refused: {exc}", 3)
    opens_at, closes_at = poll_window(installation.opening, installation.closing, config.timezone, now)
    settings = settings_for(installation, config.state_dir, config_path.read_bytes(), opens_at, closes_at,
                            training=config.training)
    opened = open_devices(config, installation)
    clock = _utc_now
    status = StatusPlan(installation.signing_key, BirthCounter(config.state_dir / BIRTH_FILE), clock)
    link = CenterLink(settings.identity, BrokerAddress(config.broker_host, config.broker_port), installation.tls,
                      status=status)
    screen = ScreenPlan(config.screen_port, pins, config.screen_lock_after_s, opened.camera)
    terminal = assemble(settings, config.state_dir / JOURNAL_FILE, opened.devices, OperatorLog(), link,
                        clock, heartbeat=heartbeat, screen=screen,
                        telemetry=TelemetryPlan(config.state_dir, config.telemetry_interval_s))
    return Kiosk(terminal, opened, installation, provisioned_permits(config.provisioning_dir))


def command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kiosk run", description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args(argv)
    logs.configure(logging.INFO)
    notifier = SystemdNotifier()
    kiosk = open_kiosk(args.config, datetime.now(UTC), notifier.ping)
    if isinstance(kiosk, StartRefused):
        print(kiosk.message, file=sys.stderr)
        return kiosk.status
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    kiosk.start()
    notifier.ready()
    log.info("terminal %s of branch %s running", kiosk.installation.terminal, kiosk.installation.branch)
    if kiosk.terminal.screen is not None:
        log.info("operator screen at %s", kiosk.terminal.screen.url)
    stop.wait()
    notifier.stopping()
    kiosk.stop()
    return 0


def _utc_now() -> datetime:
    return datetime.now(UTC)
