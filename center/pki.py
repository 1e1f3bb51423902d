"""The district CA: its keys, the certificates it issues (broker, center, terminals), revocation and its CRL."""

from __future__ import annotations

import enum
import ipaddress
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from joserfc.jwk import OKPKey

from center.config import worker_name
from protocol.messages import NAME_PATTERN
from protocol.seal import generate_signing_key, load_key, public_part

CA_KEY = "ca.key"
CA_CERT = "ca.pem"
ENROLMENT_KEY = "enrolment.key"
ENROLMENT_PUBLIC = "enrolment.pub.pem"
REGISTER = "issued.json"
CRL = "crl.pem"
CENTER_CA_KEY = "center-ca.key"
CENTER_CA_CERT = "center-ca.pem"
CENTER_CRL = "center-crl.pem"
CA_DAYS = 365
CRL_DAYS = 7
CLOCK_SKEW = timedelta(minutes=5)


class IssuedKind(enum.StrEnum):
    BROKER = "broker"
    CENTER = "center"
    TERMINAL = "terminal"


class PkiProblem(enum.StrEnum):
    CA_EXISTS = "ca_exists"
    NO_CA = "no_ca"
    BAD_CA = "bad_ca"
    BAD_NAME = "bad_name"
    NAME_IN_USE = "name_in_use"
    UNKNOWN_CERTIFICATE = "unknown_certificate"


@dataclass(frozen=True)
class PkiRefusal:
    """The CA could not do what was asked; `detail` says why."""

    problem: PkiProblem
    detail: str


@dataclass(frozen=True)
class IssuedRecord:
    """One certificate in the CA's register (serial in hex)."""

    serial: str
    common_name: str
    kind: IssuedKind
    not_after: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class Issuer:
    """One CA certificate and its key, and the CRL file it signs."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    crl_path: Path


@dataclass(frozen=True)
class DistrictCa:
    """A loaded CA folder. The district CA issues the broker's and the terminals' certificates; a separate
    center CA issues the center's, so a terminal certificate can never open the center's listener. The
    enrolment key signs bundles."""

    folder: Path
    district: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    enrolment_key: OKPKey
    center: Issuer

    @property
    def terminals(self) -> Issuer:
        return Issuer(self.certificate, self.key, self.crl_path)

    @property
    def center_ca_path(self) -> Path:
        return self.folder / CENTER_CA_CERT

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def crl_path(self) -> Path:
        return self.folder / CRL

    @property
    def ca_path(self) -> Path:
        return self.folder / CA_CERT


@dataclass(frozen=True)
class KeyAndCertificate:
    """Files of an issued identity: PEM certificate and its 0600 private key."""

    cert_file: Path
    key_file: Path
    certificate: x509.Certificate


def create_ca(folder: Path, district: str, now: datetime, days: int = CA_DAYS) -> DistrictCa | PkiRefusal:
    """Make a new CA folder: P-256 CA key and self-signed certificate, Ed25519 enrolment key, empty CRL."""
    if not re.fullmatch(NAME_PATTERN, district, flags=re.ASCII):
        return PkiRefusal(PkiProblem.BAD_NAME, district)
    if (folder / CA_KEY).exists():
        return PkiRefusal(PkiProblem.CA_EXISTS, str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = _new_ca(folder / CA_CERT, folder / CA_KEY, district, f"vk district {district} CA", now, days)
    center_certificate, center_key = _new_ca(folder / CENTER_CA_CERT, folder / CENTER_CA_KEY, district,
                                             f"vk district {district} center CA", now, days)
    enrolment = generate_signing_key()
    write_private(folder / ENROLMENT_KEY, enrolment.as_pem(private=True))
    (folder / ENROLMENT_PUBLIC).write_bytes(public_part(enrolment).as_pem(private=False))
    _save_register(folder, [])
    ca = DistrictCa(folder, district, certificate, key, enrolment,
                    Issuer(center_certificate, center_key, folder / CENTER_CRL))
    write_crl(ca, now)
    return ca


def _new_ca(cert_path: Path, key_path: Path, district: str, common_name: str, now: datetime, days: int
            ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"vk district {district}"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    certificate = (
        _builder(name, name, key.public_key(), now, timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False, cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(key_path, _key_pem(key))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def load_ca(folder: Path) -> DistrictCa | PkiRefusal:
    if not (folder / CA_KEY).exists():
        return PkiRefusal(PkiProblem.NO_CA, str(folder))
    try:
        certificate = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
        key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
        center_certificate = x509.load_pem_x509_certificate((folder / CENTER_CA_CERT).read_bytes())
        center_key = serialization.load_pem_private_key((folder / CENTER_CA_KEY).read_bytes(), password=None)
        enrolment = load_key(folder / ENROLMENT_KEY)
    except (OSError, ValueError) as exc:
        return PkiRefusal(PkiProblem.BAD_CA, f"{folder}: {exc}")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(center_key, ec.EllipticCurvePrivateKey):
        return PkiRefusal(PkiProblem.BAD_CA, "a CA key is not an EC key")
    organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    district = str(organisation[0].value).removeprefix("vk district ") if organisation else ""
    return DistrictCa(folder, district, certificate, key, enrolment,
                      Issuer(center_certificate, center_key, folder / CENTER_CRL))


def issue_broker(ca: DistrictCa, hosts: Sequence[str], out_dir: Path, now: datetime,
                 days: int = CA_DAYS) -> KeyAndCertificate:
    """The broker's server certificate for these host names and IP addresses (serverAuth)."""
    return _issue_with_new_key(ca, f"broker-{ca.district}", IssuedKind.BROKER, out_dir, now, days,
                               x509.SubjectAlternativeName(_alternative_names(hosts)))


def issue_center(ca: DistrictCa, name: str, out_dir: Path, now: datetime, days: int = CA_DAYS
                 ) -> KeyAndCertificate | PkiRefusal:
    """The center's client certificate, from the center CA; its common name is the center's broker identity."""
    refused = _center_names_refused(ca, [name])
    if refused is not None:
        return refused
    return _issue_with_new_key(ca, name, IssuedKind.CENTER, out_dir, now, days, None)


def issue_center_workers(ca: DistrictCa, instance: str, workers: int, out_dir: Path, now: datetime,
                         days: int = CA_DAYS) -> list[KeyAndCertificate] | PkiRefusal:
    """One certificate per worker of the center process `instance`, CN `<instance>-w1` ... `-w<workers>`
    (`center.config.worker_name`): the broker forces each worker's client id to its own CN."""
    if workers < 1:
        return PkiRefusal(PkiProblem.BAD_NAME, f"{workers} workers")
    names = [worker_name(instance, index) for index in range(1, workers + 1)]
    refused = _center_names_refused(ca, names)
    if refused is not None:
        return refused
    return [_issue_with_new_key(ca, name, IssuedKind.CENTER, out_dir, now, days, None) for name in names]


def _center_names_refused(ca: DistrictCa, names: Sequence[str]) -> PkiRefusal | None:
    """Client ids are one namespace across the broker's listeners: a center name must not be a terminal's."""
    for name in names:
        if not re.fullmatch(NAME_PATTERN, name, flags=re.ASCII):
            return PkiRefusal(PkiProblem.BAD_NAME, name)
    terminals = {r.common_name for r in register(ca) if r.kind is IssuedKind.TERMINAL}
    taken = [name for name in names if name in terminals]
    return PkiRefusal(PkiProblem.NAME_IN_USE, f"{taken[0]} is a terminal's") if taken else None


def center_identities(ca: DistrictCa) -> list[str]:
    """The names of every live (unrevoked) certificate of the center CA: what the center's ACL admits."""
    return sorted({r.common_name for r in register(ca) if r.kind is IssuedKind.CENTER and r.revoked_at is None})


def issue_terminal(ca: DistrictCa, terminal: str, public_key: ec.EllipticCurvePublicKey, now: datetime,
                   valid_for: timedelta) -> x509.Certificate:
    """A terminal's client certificate for a key the terminal made (CN = terminal id, clientAuth)."""
    certificate = _sign_leaf(ca, ca.terminals, terminal, public_key, now, valid_for,
                             ExtendedKeyUsageOID.CLIENT_AUTH, None)
    _record(ca, certificate, terminal, IssuedKind.TERMINAL)
    return certificate


def register(ca: DistrictCa) -> list[IssuedRecord]:
    data = json.loads((ca.folder / REGISTER).read_text(encoding="utf-8"))
    return [IssuedRecord(r["serial"], r["common_name"], IssuedKind(r["kind"]), r["not_after"], r["revoked_at"])
            for r in data]


def revoke(ca: DistrictCa, common_name: str, now: datetime) -> list[IssuedRecord] | PkiRefusal:
    """Revoke every live certificate issued to this name and rewrite the CRL; the revoked records."""
    records = register(ca)
    hits = [r for r in records if r.common_name == common_name and r.revoked_at is None]
    if not hits:
        return PkiRefusal(PkiProblem.UNKNOWN_CERTIFICATE, common_name)
    stamp = now.isoformat()
    updated = [IssuedRecord(r.serial, r.common_name, r.kind, r.not_after, stamp) if r in hits else r
               for r in records]
    _save_register(ca.folder, updated)
    write_crl(ca, now)
    return [IssuedRecord(r.serial, r.common_name, r.kind, r.not_after, stamp) for r in hits]


def write_crl(ca: DistrictCa, now: datetime, days: int = CRL_DAYS) -> Path:
    """Sign both CAs' CRLs of every revoked serial, valid for `days`; the broker must get fresh ones before
    then (an expired CRL refuses every client). Returns the terminals' CRL."""
    records = register(ca)
    _write_crl(ca.terminals, [r for r in records if r.kind is not IssuedKind.CENTER], now, days)
    _write_crl(ca.center, [r for r in records if r.kind is IssuedKind.CENTER], now, days)
    return ca.crl_path


def _write_crl(issuer: Issuer, records: list[IssuedRecord], now: datetime, days: int) -> None:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + timedelta(days=days))
    )
    for record in records:
        if record.revoked_at is not None:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(record.serial, 16))
                .revocation_date(datetime.fromisoformat(record.revoked_at))
                .build()
            )
    crl = builder.sign(issuer.key, hashes.SHA256())
    issuer.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))


def write_private(path: Path, data: bytes) -> None:
    """Create a file 0600 (never widened) and write it; an existing file is an error."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _issue_with_new_key(ca: DistrictCa, name: str, kind: IssuedKind, out_dir: Path, now: datetime, days: int,
                        names: x509.SubjectAlternativeName | None) -> KeyAndCertificate:
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    usage = ExtendedKeyUsageOID.SERVER_AUTH if kind is IssuedKind.BROKER else ExtendedKeyUsageOID.CLIENT_AUTH
    issuer = ca.center if kind is IssuedKind.CENTER else ca.terminals
    certificate = _sign_leaf(ca, issuer, name, key.public_key(), now, timedelta(days=days), usage, names)
    _record(ca, certificate, name, kind)
    key_file, cert_file = out_dir / f"{name}.key", out_dir / f"{name}.pem"
    key_file.unlink(missing_ok=True)
    write_private(key_file, _key_pem(key))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return KeyAndCertificate(cert_file, key_file, certificate)


def _sign_leaf(ca: DistrictCa, issuer: Issuer, name: str, public_key: ec.EllipticCurvePublicKey, now: datetime,
               valid_for: timedelta, usage: x509.ObjectIdentifier,
               names: x509.SubjectAlternativeName | None) -> x509.Certificate:
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"vk district {ca.district}"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    builder = (
        _builder(subject, issuer.certificate.subject, public_key, now, valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True, cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime,
             valid_for: timedelta) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + valid_for)
    )


def _key_usage(*, signing: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _record(ca: DistrictCa, certificate: x509.Certificate, name: str, kind: IssuedKind) -> None:
    record = IssuedRecord(f"{certificate.serial_number:x}", name, kind,
                          certificate.not_valid_after_utc.isoformat())
    _save_register(ca.folder, [*register(ca), record])


def _save_register(folder: Path, records: list[IssuedRecord]) -> None:
    rows = [{"serial": r.serial, "common_name": r.common_name, "kind": r.kind.value, "not_after": r.not_after,
             "revoked_at": r.revoked_at} for r in records]
    temporary = folder / f"{REGISTER}.tmp"
    temporary.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    temporary.replace(folder / REGISTER)


def issue_dashboard(ca: DistrictCa, hosts: Sequence[str], out_dir: Path, now: datetime,
                    days: int = CA_DAYS) -> KeyAndCertificate | PkiRefusal:
    """The district dashboard's HTTPS server certificate from the district CA (serverAuth) for these host names
    and IP addresses, CN `dashboard-<district>`: staff browsers trust the district CA's `ca.pem`. Kept in the
    register as a server certificate of that CA (kind broker), so `revoke` and the CRL cover it."""
    if not hosts:
        return PkiRefusal(PkiProblem.BAD_NAME, "no host name for the dashboard")
    return _issue_with_new_key(ca, f"dashboard-{ca.district}", IssuedKind.BROKER, out_dir, now, days,
                               x509.SubjectAlternativeName(_alternative_names(hosts)))


def _alternative_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    """Each host as the certificate names it: an IP address where it is one, else a DNS name."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
