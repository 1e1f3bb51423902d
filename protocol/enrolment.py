"""The enrolment formats both sides share: the CSR's binding of the signing and permit keys, and the signed bundle (JWS)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from protocol.codec import ProtocolError, escaped, load_json_object
from protocol.compact import check_jws
from protocol.messages import NAME_PATTERN
from protocol.seal import SIGNATURE_ALG

BUNDLE_TYPE = "vk-enrolment+jws"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 64 * 1024
# A private extension (OID in the UUID arc 2.25) carrying the terminal's Ed25519 signing key and its proof.
SIGNING_KEY_OID = x509.ObjectIdentifier("2.25.244375499421220541532122040759997223694")
# A second one carrying the terminal's X25519 permit key, signed with the signing key (so it is the same device's).
PERMIT_KEY_OID = x509.ObjectIdentifier("2.25.22239387681499855900990944099565299047")
_PROOF_LABEL = b"vk-enrolment-csr-v1\x00"
_PERMIT_PROOF_LABEL = b"vk-enrolment-permit-key-v1\x00"
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass(frozen=True)
class Enrolment:
    """What the district assigns to one terminal; every field is checked on both sides."""

    version: int
    election_id: str
    district: str
    branch: str
    terminal: str
    opening: str
    closing: str
    issued_at: str
    client_certificate: str
    ca_chain: str
    center_signing_key: str
    center_sealing_key: str
    card_trust_anchors: str
    terminal_signing_key: str

    @property
    def opening_time(self) -> time:
        return time.fromisoformat(self.opening)

    @property
    def closing_time(self) -> time:
        """May be earlier than the opening: polls extended past midnight close the next day."""
        return time.fromisoformat(self.closing)


def valid_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value, flags=re.ASCII) is not None


def valid_clock(value: str) -> bool:
    return _CLOCK.fullmatch(value) is not None


def signing_key_extension(terminal: str, tls_public: bytes, signing_key: OKPKey) -> x509.UnrecognizedExtension:
    """Raw Ed25519 public key (32 bytes) then its signature over the terminal id and the TLS key (SPKI DER),
    so the CSR proves the device holds both keys."""
    private = signing_key.private_key
    assert isinstance(private, Ed25519PrivateKey)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    proof = private.sign(_proof_material(terminal, tls_public))
    return x509.UnrecognizedExtension(SIGNING_KEY_OID, raw + proof)


def signing_key_of(csr: x509.CertificateSigningRequest, terminal: str) -> OKPKey | None:
    """The signing key a CSR carries, if its proof of possession holds for this terminal; else None."""
    try:
        value = csr.extensions.get_extension_for_oid(SIGNING_KEY_OID).value
    except x509.ExtensionNotFound:
        return None
    if not isinstance(value, x509.UnrecognizedExtension) or len(value.value) != 96:
        return None
    public = Ed25519PublicKey.from_public_bytes(value.value[:32])
    tls_public = csr.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        public.verify(value.value[32:], _proof_material(terminal, tls_public))
    except InvalidSignature:
        return None
    return OKPKey.import_key(public)


def permit_key_extension(terminal: str, signing_key: OKPKey, permit_key: OKPKey) -> x509.UnrecognizedExtension:
    """Raw X25519 public permit key (32 bytes) then the signing key's signature over the terminal id and it: the
    district seals a permit's secrets to this key, and only the device that signs the terminal's requests holds
    its private part."""
    signing, permit = signing_key.private_key, permit_key.private_key
    assert isinstance(signing, Ed25519PrivateKey) and isinstance(permit, X25519PrivateKey)
    raw = permit.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return x509.UnrecognizedExtension(PERMIT_KEY_OID, raw + signing.sign(_permit_proof(terminal, raw)))


def permit_key_of(csr: x509.CertificateSigningRequest, terminal: str, signing_key: OKPKey) -> OKPKey | None:
    """The public permit key a CSR carries, if the terminal's signing key signed it for this terminal; else None."""
    try:
        value = csr.extensions.get_extension_for_oid(PERMIT_KEY_OID).value
    except x509.ExtensionNotFound:
        return None
    public = signing_key.public_key
    if (not isinstance(value, x509.UnrecognizedExtension) or len(value.value) != 96
            or not isinstance(public, Ed25519PublicKey)):
        return None
    raw = value.value[:32]
    try:
        public.verify(value.value[32:], _permit_proof(terminal, raw))
    except InvalidSignature:
        return None
    return OKPKey.import_key(X25519PublicKey.from_public_bytes(raw))


def sign_bundle(enrolment: Enrolment, district_key: OKPKey) -> bytes:
    header = {"alg": SIGNATURE_ALG, "typ": BUNDLE_TYPE, "kid": district_key.thumbprint()}
    payload = json.dumps(asdict(enrolment), ensure_ascii=False, sort_keys=True).encode()
    return jws.serialize_compact(header, payload, district_key, algorithms=[SIGNATURE_ALG]).encode("ascii")


@dataclass(frozen=True)
class BundleFault:
    """Why a bundle could not be opened: `kind` is 'unreadable', 'foreign' or 'tampered'."""

    kind: str
    detail: str


def open_bundle(data: bytes, trusted: OKPKey) -> Enrolment | BundleFault:
    """Verify the district's signature, then parse the payload strictly (every field, no others, none twice).
    Whatever the bytes hold, the outcome is an Enrolment or a BundleFault, never an exception."""
    if len(data) > MAX_BUNDLE_BYTES:
        return BundleFault("unreadable", f"{len(data)} bytes")
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return BundleFault("unreadable", "not ascii")
    shape = check_jws(text, alg=SIGNATURE_ALG, typ=BUNDLE_TYPE)
    if shape is not None:
        return BundleFault("unreadable", f"not an enrolment bundle: {shape}")
    try:
        header = jws.extract_compact(text.encode("ascii")).protected
        if header.get("kid") != trusted.thumbprint():
            return BundleFault("foreign", f"kid {escaped(header.get('kid'))}")
        payload = jws.deserialize_compact(text, trusted, algorithms=[SIGNATURE_ALG]).payload
    except (ValueError, JoseError) as exc:
        return BundleFault("tampered", type(exc).__name__)
    except Exception as exc:  # the JOSE library failing on our input: refused all the same
        return BundleFault("unreadable", f"parser fault {type(exc).__name__}")
    return _parse(payload)


def _parse(payload: bytes) -> Enrolment | BundleFault:
    data = load_json_object(payload, MAX_BUNDLE_BYTES)
    if isinstance(data, ProtocolError):
        return BundleFault("unreadable", f"payload: {data}")
    names = {field.name: field.type for field in fields(Enrolment)}
    if not isinstance(data, dict) or set(data) != set(names):
        return BundleFault("unreadable", "fields")
    if type(data["version"]) is not int or data["version"] != BUNDLE_VERSION:
        return BundleFault("unreadable", f"version {data['version']}")
    if not all(isinstance(data[name], str) for name in names if name != "version"):
        return BundleFault("unreadable", "field types")
    enrolment = Enrolment(**data)
    for name in ("election_id", "district", "branch", "terminal"):
        if not valid_name(getattr(enrolment, name)):
            return BundleFault("unreadable", name)
    for name in ("opening", "closing"):
        if not valid_clock(getattr(enrolment, name)):
            return BundleFault("unreadable", name)
    return enrolment


def _permit_proof(terminal: str, permit_public: bytes) -> bytes:
    return _PERMIT_PROOF_LABEL + terminal.encode("ascii") + b"\x00" + permit_public


def _proof_material(terminal: str, tls_public: bytes) -> bytes:
    return _PROOF_LABEL + terminal.encode("ascii") + b"\x00" + tls_public
