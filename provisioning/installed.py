"""What an installed terminal runs with: identity, TLS files, center keys, hours, signing key and the day's
election bundle, re-checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from cryptography import x509
from joserfc.jwk import OKPKey

from protocol.enrolment import Enrolment
from protocol.mqtt import TlsFiles
from protocol.seal import load_key
from provisioning.device import DeviceKeys, load_device
from provisioning.election import InstalledElection, read_election
from provisioning.install import (
    BUNDLE,
    CA_CERT,
    CENTER_SEALING,
    CENTER_SIGNING,
    CLIENT_CERT,
    CSCA,
    DISTRICT_KEY,
    INSTALLED,
    verify_bundle,
)
from provisioning.refusals import Problem, ProvisioningRefusal


@dataclass(frozen=True)
class Installation:
    """Everything the runtime needs from provisioning. `signing_key` is private: it signs requests and the
    audit export. `closing` may be earlier than `opening` (polls closing after midnight)."""

    folder: Path
    election_id: str
    district: str
    branch: str
    terminal: str
    opening: time
    closing: time
    tls: TlsFiles
    center_signing_key: OKPKey
    center_sealing_key: OKPKey
    signing_key: OKPKey
    csca_path: Path
    certificate_serial: str
    certificate_not_after: datetime
    ca_not_after: datetime
    election: InstalledElection
    """The day's elections and candidates, signed by the district (its hash is named by the minutes)."""
    permit_key: OKPKey | None = None
    """The device's private X25519 key that opens an offline permit's secrets; None on a device made before
    permits."""


@dataclass(frozen=True)
class Enrolled:
    """The installed enrolment, verified, the district key it was verified with and the device's keys."""

    enrolment: Enrolment
    trusted: OKPKey
    device: DeviceKeys


def load_enrolment(folder: Path, now: datetime) -> Enrolled | ProvisioningRefusal:
    """Re-verify the installed bundle against the district key trusted at install time, and the certificate
    against the device's key and `now`."""
    device = load_device(folder)
    if isinstance(device, ProvisioningRefusal):
        return device
    installed = folder / INSTALLED
    try:
        bundle = (installed / BUNDLE).read_bytes()
        trusted = load_key(installed / DISTRICT_KEY)
    except (OSError, ValueError) as exc:
        return ProvisioningRefusal(Problem.NOT_INSTALLED, f"{installed}: {type(exc).__name__}")
    enrolment = verify_bundle(device, bundle, trusted, now)
    if isinstance(enrolment, ProvisioningRefusal):
        return enrolment
    if _changed_on_disk(installed, enrolment):
        return ProvisioningRefusal(Problem.TAMPERED, "installed files differ from the signed bundle")
    return Enrolled(enrolment, trusted, device)


def load_installation(folder: Path, now: datetime) -> Installation | ProvisioningRefusal:
    """The enrolment (`load_enrolment`) and the day's election bundle, verified with the same district key and
    for the enrolment's district; any failure refuses start-up."""
    enrolled = load_enrolment(folder, now)
    if isinstance(enrolled, ProvisioningRefusal):
        return enrolled
    enrolment = enrolled.enrolment
    election = read_election(folder, enrolled.trusted, enrolment.district)
    if isinstance(election, ProvisioningRefusal):
        return election
    device, installed = enrolled.device, folder / INSTALLED
    certificate = x509.load_pem_x509_certificate(enrolment.client_certificate.encode())
    ca = x509.load_pem_x509_certificates(enrolment.ca_chain.encode())[0]
    return Installation(
        folder=folder, election_id=enrolment.election_id, district=enrolment.district,
        branch=enrolment.branch, terminal=enrolment.terminal, opening=enrolment.opening_time,
        closing=enrolment.closing_time,
        tls=TlsFiles(installed / CA_CERT, installed / CLIENT_CERT, device.tls_key_file),
        center_signing_key=OKPKey.import_key(enrolment.center_signing_key),
        center_sealing_key=OKPKey.import_key(enrolment.center_sealing_key),
        signing_key=device.signing_key(), csca_path=installed / CSCA,
        certificate_serial=f"{certificate.serial_number:x}",
        certificate_not_after=certificate.not_valid_after_utc, ca_not_after=ca.not_valid_after_utc,
        election=election, permit_key=device.permit_key(),
    )


def _changed_on_disk(installed: Path, enrolment: Enrolment) -> bool:
    expected = {CLIENT_CERT: enrolment.client_certificate, CA_CERT: enrolment.ca_chain,
                CENTER_SIGNING: enrolment.center_signing_key, CENTER_SEALING: enrolment.center_sealing_key,
                CSCA: enrolment.card_trust_anchors}
    try:
        return any((installed / name).read_text(encoding="ascii") != text for name, text in expected.items())
    except (OSError, UnicodeDecodeError):
        return True
