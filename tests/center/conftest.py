"""Fixtures of the center tests: the center's keys, a registry with a small roll on each engine, a mutual-TLS
district broker."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.enroll import CenterKeys
from center.registry import Registry
from center.storage import PostgresSettings, RegistryDatabase, RegistryLocation, open_database
from harness.broker import Broker
from harness.card.pki import make_pki
from harness.pki import DistrictPki, make_district_pki, terminal_credentials
from harness.postgres import PostgresCluster
from protocol.mqtt import TlsFiles
from protocol.seal import generate_signing_key, public_part
from tests.center.sample import ELECTION_DAY, SEALING_KEY, SMALL_ROLL, VOTER_KEY


@pytest.fixture(scope="session")
def signing_key() -> OKPKey:
    return generate_signing_key()


@pytest.fixture(scope="session")
def sealing_key() -> OKPKey:
    return SEALING_KEY


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite"
    setup = Registry(path, ELECTION_DAY, voter_key=VOTER_KEY)
    loaded = setup.load_roll(SMALL_ROLL)
    setup.close()
    assert loaded == len(SMALL_ROLL), f"the small roll did not load: {loaded}"
    return path


FreshLocation = Callable[[], RegistryLocation]
"""Makes a new, empty registry location of the engine under test each time it is called."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real_peer)])
def fresh_location(request: pytest.FixtureRequest, tmp_path: Path) -> FreshLocation:
    """The registry tests run on both engines: an SQLite file, or a schema of its own on the session's PostgreSQL
    (a pool big enough for one connection per thread of the concurrency tests)."""
    if request.param == "sqlite":
        return lambda: tmp_path / f"registry-{secrets.token_hex(4)}.sqlite"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return lambda: PostgresSettings(cluster.fresh_schema(), pool_size=2)


@pytest.fixture
def registry_location(fresh_location: FreshLocation) -> RegistryLocation:
    """A registry on the engine under test with the small roll loaded."""
    location = fresh_location()
    database = open_database(location)
    setup = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    loaded = setup.load_roll(SMALL_ROLL)
    setup.close()
    database.close()
    assert loaded == len(SMALL_ROLL), f"the small roll did not load: {loaded}"
    return location


@pytest.fixture
def registry_database(registry_location: RegistryLocation) -> Iterator[RegistryDatabase]:
    database = open_database(registry_location)
    yield database
    database.close()


@pytest.fixture
def registry(registry_database: RegistryDatabase) -> Iterator[Registry]:
    opened = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    yield opened
    opened.close()


@dataclass(frozen=True)
class TlsDistrict:
    """A district of its own on its own mutual-TLS mosquitto: the center on its listener, test terminals
    with certificates of the district CA on theirs."""

    district: str
    pki: DistrictPki
    broker: Broker
    folder: Path

    def terminal_tls(self, terminal: str) -> TlsFiles:
        return terminal_credentials(self.pki, self.folder / "clients", terminal)

    def center_config(self, database: Path, instance: str = "center-1", workers: int = 1) -> CenterConfig:
        return CenterConfig(self.district, instance, ELECTION_DAY, database, self.folder / "unused-signing.pem",
                            self.folder / "unused-sealing.pem", self.broker.center_address, self.pki.center_workers,
                            workers, self.pki.group)

    def center_toml(self) -> str:
        """The `group` line and `[broker]` table of a center.toml that reaches this broker."""
        address, tls = self.broker.center_address, self.pki.center_workers
        return (f'group = "{self.pki.group}"\n[broker]\nhost = "{address.host}"\nport = {address.port}\n'
                f'[broker.tls]\nca_file = "{tls.ca_file}"\ncert_dir = "{tls.cert_dir}"\n')


@pytest.fixture
def tls_district(tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey) -> Iterator[TlsDistrict]:
    district = f"d-{secrets.token_hex(4)}"
    pki = make_district_pki(tmp_path / "pki", district, CenterKeys(public_part(signing_key), public_part(sealing_key)),
                            make_pki().csca_pem())
    with Broker(tmp_path / "broker", tls=pki.broker_tls) as broker:
        yield TlsDistrict(district, pki, broker, tmp_path)
