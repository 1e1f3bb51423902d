"""A district over mutual TLS: its PKI, a real mosquitto with the project's TLS config and ACL, and the bad
certificates (expired, foreign CA)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import OKPKey

from center.enroll import CenterKeys
from harness.broker import Broker
from harness.card.pki import make_pki
from harness.pki import (
    DistrictPki,
    expired_terminal,
    foreign_terminal,
    make_district_pki,
    provision_terminal,
)
from protocol.mqtt import TlsFiles
from protocol.seal import generate_sealing_key, generate_signing_key, public_part
from provisioning.installed import Installation

DISTRICT = "D-sec"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class BadCertificates:
    expired: TlsFiles
    foreign: TlsFiles


@dataclass(frozen=True)
class SecureDistrict:
    pki: DistrictPki
    broker: Broker
    bad: BadCertificates
    signing_key: OKPKey
    sealing_key: OKPKey


@pytest.fixture(scope="session")
def secure_district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureDistrict]:
    """Missing mosquitto is an error here, never a skip."""
    work: Path = tmp_path_factory.mktemp("secure-district")
    signing, sealing = generate_signing_key(), generate_sealing_key()
    center_keys = CenterKeys(public_part(signing), public_part(sealing))
    csca = make_pki().csca.certificate.public_bytes(Encoding.PEM)
    pki = make_district_pki(work / "pki", DISTRICT, center_keys, csca)
    bad = BadCertificates(
        expired=expired_terminal(pki, work / "expired", "T-expired"),
        foreign=foreign_terminal(work / "foreign", DISTRICT, "T-foreign", center_keys, csca),
    )
    with Broker(work / "broker", tls=pki.broker_tls) as broker:
        yield SecureDistrict(pki, broker, bad, signing, sealing)


def terminal_name() -> str:
    return f"T-{next(_numbers):03d}"


TerminalMaker = Callable[[str], TlsFiles]
InstalledMaker = Callable[[str], Installation]


@pytest.fixture
def provisioned(secure_district: SecureDistrict, tmp_path: Path) -> TerminalMaker:
    """Provision a terminal of the secure district through init, enroll and install; its TLS files."""
    def make(terminal: str) -> TlsFiles:
        return provision_terminal(secure_district.pki, tmp_path / terminal, terminal, f"B-{terminal}").tls

    return make


@pytest.fixture
def installed(secure_district: SecureDistrict, tmp_path: Path) -> InstalledMaker:
    """Provision a terminal of the secure district; its whole installation (TLS files and signing key)."""
    def make(terminal: str) -> Installation:
        return provision_terminal(secure_district.pki, tmp_path / terminal, terminal, f"B-{terminal}")

    return make

