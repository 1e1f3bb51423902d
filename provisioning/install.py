"""Installing an enrolment bundle: verify the district's signature and that it is for this device, then write it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from joserfc.jwk import OKPKey

from protocol.enrolment import BundleFault, Enrolment, open_bundle
from provisioning.device import DeviceKeys, load_device
from provisioning.refusals import Problem, ProvisioningRefusal

INSTALLED = "installed"
CLIENT_CERT = "client.pem"
CA_CERT = "ca.pem"
CENTER_SIGNING = "center-signing.pub.pem"
CENTER_SEALING = "center-sealing.pub.pem"
CSCA = "csca.pem"
BUNDLE = "bundle.jws"
DISTRICT_KEY = "district.pub.pem"

_FAULTS = {"unreadable": Problem.UNREADABLE_BUNDLE, "foreign": Problem.FOREIGN_SIGNER, "tampered": Problem.TAMPERED}


def install_bundle(folder: Path, bundle: bytes, trusted: OKPKey, now: datetime) -> Enrolment | ProvisioningRefusal:
    """Refuse a bundle that is unsigned by `trusted`, altered, for another terminal or key, off-chain or out
    of validity; otherwise replace what is installed in one rename."""
    device = load_device(folder)
    if isinstance(device, ProvisioningRefusal):
        return device
    enrolment = verify_bundle(device, bundle, trusted, now)
    if isinstance(enrolment, ProvisioningRefusal):
        return enrolment
    staging = folder / f"{INSTALLED}.new"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o755)
    files = {
        CLIENT_CERT: enrolment.client_certificate, CA_CERT: enrolment.ca_chain,
        CENTER_SIGNING: enrolment.center_signing_key, CENTER_SEALING: enrolment.center_sealing_key,
        CSCA: enrolment.card_trust_anchors, BUNDLE: bundle.decode("ascii").strip() + "\n",
        DISTRICT_KEY: trusted.as_pem(private=False).decode(),
    }
    for name, text in files.items():
        (staging / name).write_text(text, encoding="ascii")
    target, old = folder / INSTALLED, folder / f"{INSTALLED}.old"
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return enrolment


def verify_bundle(device: DeviceKeys, bundle: bytes, trusted: OKPKey, now: datetime
                  ) -> Enrolment | ProvisioningRefusal:
    opened = open_bundle(bundle, trusted)
    if isinstance(opened, BundleFault):
        return ProvisioningRefusal(_FAULTS[opened.kind], opened.detail)
    if opened.terminal != device.terminal:
        return ProvisioningRefusal(Problem.WRONG_TERMINAL, f"bundle for {opened.terminal}, device {device.terminal}")
    if opened.terminal_signing_key != device.signing_key().thumbprint():
        return ProvisioningRefusal(Problem.SIGNING_KEY_MISMATCH, opened.terminal_signing_key)
    problem = check_certificate(device, opened, now)
    return opened if problem is None else problem


def check_certificate(device: DeviceKeys, enrolment: Enrolment, now: datetime) -> ProvisioningRefusal | None:
    """The client certificate is this device's key, names this terminal, is for client auth, chains to the
    bundled CA, and both are valid at `now`."""
    try:
        certificate = x509.load_pem_x509_certificate(enrolment.client_certificate.encode())
        chain = x509.load_pem_x509_certificates(enrolment.ca_chain.encode())
    except ValueError as exc:
        return ProvisioningRefusal(Problem.UNREADABLE_BUNDLE, f"certificate: {exc}")
    public = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    if public != device.tls_public_der():
        return ProvisioningRefusal(Problem.KEY_MISMATCH, f"serial {certificate.serial_number:x}")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or names[0].value != device.terminal:
        return ProvisioningRefusal(Problem.WRONG_TERMINAL, certificate.subject.rfc4514_string())
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        return ProvisioningRefusal(Problem.NOT_A_CLIENT_CERTIFICATE, "no clientAuth usage")
    issuer = _issuer(certificate, chain)
    if issuer is None:
        return ProvisioningRefusal(Problem.UNTRUSTED_CHAIN, certificate.issuer.rfc4514_string())
    for checked in (certificate, issuer):
        if now < checked.not_valid_before_utc:
            return ProvisioningRefusal(Problem.NOT_YET_VALID, f"{checked.subject.rfc4514_string()} from "
                                       f"{checked.not_valid_before_utc.isoformat()}")
        if now > checked.not_valid_after_utc:
            return ProvisioningRefusal(Problem.EXPIRED, f"{checked.subject.rfc4514_string()} until "
                                       f"{checked.not_valid_after_utc.isoformat()}")
    return None


def _issuer(certificate: x509.Certificate, chain: list[x509.Certificate]) -> x509.Certificate | None:
    for candidate in chain:
        try:
            constraints = candidate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            continue
        if not constraints.ca or candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return candidate
    return None
