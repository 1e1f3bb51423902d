"""Fixtures of the fleet tests: a fleet store on each engine, and a district whose mTLS broker admits the fleet's
own center identity."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.broker_config import render_center_acl
from center.config import CenterConfig
from center.enroll import CenterKeys
from center.fleet.store import FleetLocation
from center.pki import center_identities, issue_center
from center.storage import PostgresSettings
from harness.broker import Broker
from harness.card.pki import make_pki
from harness.pki import DistrictPki, make_district_pki, terminal_credentials
from harness.postgres import PostgresCluster
from protocol.mqtt import MqttSession, TlsFiles
from protocol.seal import generate_signing_key, public_part
from tests.center.sample import ELECTION_DAY

FLEET_IDENTITY = "center-1-fleet"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real_peer)])
def fleet_location(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], FleetLocation]:
    """A new, empty fleet store location of the engine under test each call."""
    if request.param == "sqlite":
        return lambda: tmp_path / f"registry-{secrets.token_hex(4)}.fleet.sqlite"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return lambda: PostgresSettings(cluster.fresh_schema(), pool_size=2)


@dataclass(frozen=True)
class FleetDistrict:
    """A district on its own mTLS mosquitto whose center ACL admits the fleet's identity."""

    district: str
    pki: DistrictPki
    broker: Broker
    folder: Path

    def terminal_tls(self, terminal: str) -> TlsFiles:
        return terminal_credentials(self.pki, self.folder / "clients", terminal)

    def center_config(self, database: Path) -> CenterConfig:
        return CenterConfig(self.district, "center-1", ELECTION_DAY, database, self.folder / "unused-signing.pem",
                            self.folder / "unused-sealing.pem", self.broker.center_address, self.pki.center_workers,
                            1, self.pki.group)

    def publisher(self, terminal: str) -> MqttSession:
        """A connection as this terminal, with its own certificate (the broker's ACL confines it)."""
        session = MqttSession(terminal, self.broker.address, [], lambda _topic, _payload: None,
                              tls=self.terminal_tls(terminal), session_expiry=0)
        session.start()
        assert session.wait_connected(10), f"{terminal} did not connect to the broker"
        return session


@pytest.fixture
def fleet_district(tmp_path: Path) -> Iterator[FleetDistrict]:
    district = f"d-{secrets.token_hex(4)}"
    signing: OKPKey = generate_signing_key()
    pki = make_district_pki(tmp_path / "pki", district, CenterKeys(public_part(signing), public_part(signing)),
                            make_pki().csca_pem())
    issued = issue_center(pki.ca, FLEET_IDENTITY, pki.center_workers.cert_dir, datetime.now(UTC))
    assert not isinstance(issued, Exception) and hasattr(issued, "cert_file"), issued
    pki.broker_tls.center.acl_file.write_text(render_center_acl(district, center_identities(pki.ca)))
    with Broker(tmp_path / "broker", tls=pki.broker_tls) as broker:
        yield FleetDistrict(district, pki, broker, tmp_path)
