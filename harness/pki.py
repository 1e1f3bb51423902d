"""A district's PKI for tests and the demo: CA, broker and center certificates, ACL, and terminals provisioned
through the real commands' API, plus the bad cases (expired, foreign CA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from center.broker_config import (
    BrokerTls,
    CenterListener,
    render_center_acl,
    render_terminal_acl,
    secret_group_name,
)
from center.config import CenterTls
from center.enroll import Assignment, CenterKeys, EnrolRefusal, enroll
from center.fleet.settings import DEFAULT_IDENTITY_SUFFIX
from center.permit_command import PERMITS_IDENTITY_SUFFIX
from center.pki import (
    DistrictCa,
    PkiRefusal,
    center_identities,
    create_ca,
    issue_broker,
    issue_center,
    issue_center_workers,
    issue_terminal,
)
from center.snapshot_publisher import IDENTITY_SUFFIX as SNAPSHOT_IDENTITY_SUFFIX
from harness.broker import free_port
from harness.election import day_election
from protocol.minutes import ElectionBundle
from protocol.mqtt import TlsFiles
from protocol.seal import public_part
from provisioning.device import init_device
from provisioning.election import install_election
from provisioning.install import install_bundle
from provisioning.installed import Installation, load_installation
from provisioning.refusals import ProvisioningRefusal

ELECTION_ID = "E-1405-test"
BROKER_HOSTS = ("127.0.0.1", "localhost")
CENTER_INSTANCES = ("center-1", "center-2")
"""The center processes a test district has certificates for, each for up to CENTER_WORKERS workers."""
CENTER_WORKERS = 8
_T = TypeVar("_T")


@dataclass(frozen=True)
class DistrictPki:
    """The CA folder and what the broker and the center run with: `center_workers` for the center's workers
    (each its own certificate), `center_tls` for a center tool (CN `center_name`: a broadcaster, an insider)."""

    folder: Path
    ca: DistrictCa
    broker_tls: BrokerTls
    center_name: str
    center_tls: TlsFiles
    center_workers: CenterTls
    center_keys: CenterKeys
    csca_pem: bytes
    group: str

    @property
    def enrolment_public(self) -> Path:
        return self.folder / "ca" / "enrolment.pub.pem"


def make_district_pki(folder: Path, district: str, center_keys: CenterKeys, csca_pem: bytes,
                      now: datetime | None = None) -> DistrictPki:
    """CA, broker certificate for 127.0.0.1/localhost, the center tool's certificate and one per worker of
    each of CENTER_INSTANCES, ACLs and (empty) CRLs; the center's listener gets a free loopback port of its own."""
    at = now or datetime.now(UTC)
    ca = _ok(create_ca(folder / "ca", district, at))
    broker = issue_broker(ca, BROKER_HOSTS, folder / "broker", at)
    center_name = f"center-{district}"
    center = _ok(issue_center(ca, center_name, folder / "center", at))
    for instance in CENTER_INSTANCES:
        _ok(issue_center_workers(ca, instance, CENTER_WORKERS, folder / "center", at))
        _ok(issue_center(ca, f"{instance}-{DEFAULT_IDENTITY_SUFFIX}", folder / "center", at))  # its fleet listener
        _ok(issue_center(ca, f"{instance}-{PERMITS_IDENTITY_SUFFIX}", folder / "center", at))  # its permit messages
        _ok(issue_center(ca, f"{instance}-{SNAPSHOT_IDENTITY_SUFFIX}", folder / "center", at))  # its snapshot
    terminals_acl, center_acl = folder / "broker" / "terminals.acl", folder / "broker" / "center.acl"
    terminals_acl.write_text(render_terminal_acl(district))
    center_acl.write_text(render_center_acl(district, center_identities(ca)))
    listener = CenterListener("127.0.0.1", free_port(), ca.center_ca_path, center_acl, ca.center.crl_path)
    broker_tls = BrokerTls(ca.ca_path, broker.cert_file, broker.key_file, terminals_acl, listener, ca.crl_path)
    center_tls = TlsFiles(ca.ca_path, center.cert_file, center.key_file)
    workers = CenterTls(ca.ca_path, folder / "center")
    return DistrictPki(folder, ca, broker_tls, center_name, center_tls, workers, center_keys, csca_pem,
                       secret_group_name())


def provision_terminal(pki: DistrictPki, folder: Path, terminal: str, branch: str, *, opening: str = "07:00",
                       closing: str = "22:00", now: datetime | None = None,
                       election: ElectionBundle | None = None) -> Installation:
    """init on the device, enroll at the district, install the bundle and the day's election bundle (`election`,
    or the district's presidential election), load them: the terminal's whole path."""
    at = now or datetime.now(UTC)
    device = _ok(init_device(folder, terminal, at))
    assignment = Assignment(ELECTION_ID, pki.ca.district, branch, terminal, opening, closing)
    enrolled = enroll(pki.ca, device.csr_file.read_bytes(), assignment, pki.center_keys, pki.csca_pem, at,
                      election=election or day_election(pki.ca.district))
    if isinstance(enrolled, EnrolRefusal) or enrolled.election is None:
        raise RuntimeError(f"enrolment of {terminal} refused: {enrolled}")
    trusted = public_part(pki.ca.enrolment_key)
    _ok(install_bundle(folder, enrolled.bundle, trusted, at))
    _ok(install_election(folder, enrolled.election, trusted, pki.ca.district))
    return _ok(load_installation(folder, at))


def terminal_credentials(pki: DistrictPki, folder: Path, terminal: str) -> TlsFiles:
    """TLS credentials for a test client playing `terminal`: a fresh key and a certificate valid now."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    key_file, cert_file = folder / f"{terminal}.key", folder / f"{terminal}.pem"
    key_file.touch(mode=0o600)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    certificate = issue_terminal(pki.ca, terminal, key.public_key(), datetime.now(UTC), timedelta(days=1))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(pki.ca.ca_path, cert_file, key_file)


def expired_terminal(pki: DistrictPki, folder: Path, terminal: str) -> TlsFiles:
    """A terminal whose certificate from the right CA expired yesterday."""
    long_ago = datetime.now(UTC) - timedelta(days=10)
    device = _ok(init_device(folder, terminal, long_ago))
    key = serialization.load_pem_private_key(device.tls_key_file.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    certificate = issue_terminal(pki.ca, terminal, key.public_key(), long_ago, timedelta(days=9))
    cert_file = folder / "expired.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return TlsFiles(pki.ca.ca_path, cert_file, device.tls_key_file)


def foreign_terminal(folder: Path, district: str, terminal: str, center_keys: CenterKeys,
                     csca_pem: bytes) -> TlsFiles:
    """A terminal enrolled by another CA with the same district name: its certificate must not be accepted."""
    other = make_district_pki(folder / "foreign-pki", district, center_keys, csca_pem)
    installation = provision_terminal(other, folder / "device", terminal, "B-foreign")
    return TlsFiles(other.ca.ca_path, installation.tls.cert_file, installation.tls.key_file)


def _ok(result: _T | PkiRefusal | ProvisioningRefusal) -> _T:
    if isinstance(result, PkiRefusal | ProvisioningRefusal):
        raise RuntimeError(f"test PKI step refused: {result}")
    return result
