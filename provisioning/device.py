"""The terminal's own keys, made on the device: TLS client key (P-256), signing key (Ed25519), permit key (X25519),
and the CSR."""

from __future__ import annotations

import json
import os
import pwd
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc.jwk import OKPKey

from protocol.enrolment import permit_key_extension, signing_key_extension, valid_name
from protocol.seal import generate_sealing_key, generate_signing_key, load_key, public_part
from provisioning.refusals import Problem, ProvisioningRefusal

TLS_KEY = "tls.key"
SIGNING_KEY = "signing.key"
SIGNING_PUBLIC = "signing.pub.pem"
PERMIT_KEY = "permit.key"
CSR = "terminal.csr"
DEVICE = "device.json"


@dataclass(frozen=True)
class DeviceKeys:
    """The device's key files and what they are for."""

    folder: Path
    terminal: str
    tls_key_file: Path
    signing_key_file: Path
    csr_file: Path
    permit_key_file: Path | None
    """The X25519 key the district seals offline permits to; None on a device made before permits (it can hold
    none until it is made again)."""

    def signing_key(self) -> OKPKey:
        return load_key(self.signing_key_file)

    def permit_key(self) -> OKPKey | None:
        return None if self.permit_key_file is None else load_key(self.permit_key_file)

    def tls_public_der(self) -> bytes:
        key = serialization.load_pem_private_key(self.tls_key_file.read_bytes(), password=None)
        return key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def init_device(folder: Path, terminal: str, now: datetime, service_user: str | None = None
                ) -> DeviceKeys | ProvisioningRefusal:
    """Make the keys and the CSR; private files are 0600, owned by `service_user` if named (else the caller)."""
    if not valid_name(terminal):
        return ProvisioningRefusal(Problem.BAD_NAME, terminal)
    owner: tuple[int, int] | None = None
    if service_user is not None:
        try:
            entry = pwd.getpwnam(service_user)
        except KeyError:
            return ProvisioningRefusal(Problem.UNKNOWN_USER, service_user)
        owner = (entry.pw_uid, entry.pw_gid)
    if any((folder / name).exists() for name in (TLS_KEY, SIGNING_KEY, PERMIT_KEY)):
        return ProvisioningRefusal(Problem.ALREADY_INITIALISED, str(folder))
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    tls_key = ec.generate_private_key(ec.SECP256R1())
    signing = generate_signing_key()
    permit = generate_sealing_key()
    tls_public = tls_key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal)]))
        .add_extension(signing_key_extension(terminal, tls_public, signing), critical=False)
        .add_extension(permit_key_extension(terminal, signing, permit), critical=False)
        .sign(tls_key, hashes.SHA256())
    )
    tls_pem = tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    write_private(folder / TLS_KEY, tls_pem, owner)
    write_private(folder / SIGNING_KEY, signing.as_pem(private=True), owner)
    write_private(folder / PERMIT_KEY, permit.as_pem(private=True), owner)
    (folder / SIGNING_PUBLIC).write_bytes(public_part(signing).as_pem(private=False))
    (folder / CSR).write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    (folder / DEVICE).write_text(json.dumps({"terminal": terminal, "created_at": now.isoformat()}) + "\n")
    if owner is not None:
        os.chown(folder, *owner)
    return DeviceKeys(folder, terminal, folder / TLS_KEY, folder / SIGNING_KEY, folder / CSR, folder / PERMIT_KEY)


def load_device(folder: Path) -> DeviceKeys | ProvisioningRefusal:
    try:
        terminal = json.loads((folder / DEVICE).read_text())["terminal"]
    except (OSError, ValueError, KeyError, TypeError):
        return ProvisioningRefusal(Problem.NOT_INITIALISED, str(folder))
    if not isinstance(terminal, str) or not (folder / TLS_KEY).exists() or not (folder / SIGNING_KEY).exists():
        return ProvisioningRefusal(Problem.NOT_INITIALISED, str(folder))
    permit = folder / PERMIT_KEY
    return DeviceKeys(folder, terminal, folder / TLS_KEY, folder / SIGNING_KEY, folder / CSR,
                      permit if permit.exists() else None)


def write_private(path: Path, data: bytes, owner: tuple[int, int] | None = None) -> None:
    """Create a 0600 file (an existing one is an error), hand it to `owner`, write and sync it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    if owner is not None:
        os.fchown(descriptor, *owner)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
