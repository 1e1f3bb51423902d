"""A virtual district: center keys, a real mosquitto, a synthetic roll and the real center service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from joserfc.jwk import OKPKey

from center.broadcast import publish_extension
from center.config import CenterConfig
from center.eligibility import VoterRecord
from center.registry import Registry
from center.service import CenterService
from center.synthetic_roll import generate_roll
from harness.broker import Broker
from protocol.mqtt import MqttSession
from protocol.seal import generate_sealing_key, generate_signing_key, public_part


@dataclass(frozen=True)
class CenterKeys:
    signing: OKPKey
    sealing: OKPKey

    @property
    def signing_public(self) -> OKPKey:
        return public_part(self.signing)

    @property
    def sealing_public(self) -> OKPKey:
        return public_part(self.sealing)


class VirtualDistrict:
    """Broker, roll and center for one district; the center can be stopped and started to play an outage."""

    def __init__(self, work_dir: Path, district: str, election_day: date, voters: int, seed: int,
                 workers: int = 1) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.district = district
        self.election_day = election_day
        self.keys = CenterKeys(generate_signing_key(), generate_sealing_key())
        self.broker = Broker(work_dir / "broker")
        self.roll: list[VoterRecord] = generate_roll(voters, seed, election_day)
        self.database = work_dir / "registry.db"
        registry = Registry(self.database, election_day)
        try:
            registry.load_roll(self.roll)
        finally:
            registry.close()
        self._config = CenterConfig(
            district=district, instance="center-1", election_day=election_day, database=self.database,
            signing_key=work_dir / "unused-signing.pem", sealing_key=work_dir / "unused-sealing.pem",
            broker=self.broker.address, tls=None, workers=workers, group="center",
        )
        self.terminal_keys: dict[str, OKPKey] = {}
        """Enrolled terminals' public signing keys; the center reads this mapping at each request."""
        self.center: CenterService | None = None

    def enrol(self, terminal: str, signing_public: OKPKey) -> None:
        """Make a terminal's signing key known to the center (what `kiosk-center enroll` records)."""
        self.terminal_keys[terminal] = signing_public

    def start(self) -> None:
        self.broker.start()
        self.start_center()

    def start_center(self) -> None:
        self.center = CenterService(self._config, self.keys.signing, self.keys.sealing,
                                    terminal_keys=self.terminal_keys)
        self.center.start()
        if not self.center.wait_connected(10):
            raise RuntimeError("the center could not reach the broker")

    def stop_center(self) -> None:
        if self.center is not None:
            self.center.stop()
            self.center = None

    def stop(self) -> None:
        self.stop_center()
        self.broker.stop()

    def broadcast_extension(self, closes_at: datetime) -> None:
        """The center tells every terminal of the district that the polls close later (signed, retained)."""
        session = MqttSession(f"{self.district}-broadcaster", self.broker.address, [], lambda _t, _p: None)
        session.start()
        try:
            if not session.wait_connected(10):
                raise RuntimeError("the broadcaster could not reach the broker")
            publish_extension(session, self.district, closes_at, self.keys.signing, datetime.now(UTC))
        finally:
            session.stop()

    def registry(self) -> Registry:
        return Registry(self.database, self.election_day)
