"""Document security object: per-file hashes signed by a document signer (ICAO 9303 passive authentication)."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.utils import CryptographyDeprecationWarning

from firmware_app.identity import tlv

TAG_SECURITY_OBJECT = 0x77
TAG_SIGNED_CONTENT = 0x70
TAG_VERSION = 0x80
TAG_HASH_ALGORITHM = 0x06
TAG_HASH_LIST = 0x71
TAG_HASH_ENTRY = 0x72
TAG_FILE_ID = 0x81
TAG_DIGEST = 0x82
TAG_SIGNATURE = 0x5F37
TAG_SIGNER_CERTIFICATE = 0x74
VERSION = b"\x01"

SHA256_OID = bytes.fromhex("608648016503040201")
_HASHES: dict[bytes, Callable[[], hashes.HashAlgorithm]] = {
    SHA256_OID: hashes.SHA256,
    bytes.fromhex("608648016503040202"): hashes.SHA384,
    bytes.fromhex("608648016503040203"): hashes.SHA512,
}


class SecurityObjectProblem(enum.StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    BAD_CERTIFICATE = "bad_certificate"


@dataclass(frozen=True)
class SecurityObjectError:
    problem: SecurityObjectProblem
    detail: str = ""


@dataclass(frozen=True)
class SecurityObject:
    hash_oid: bytes
    file_hashes: Mapping[int, bytes]
    signed_content: bytes
    signature: bytes
    signer: x509.Certificate

    def digest(self, data: bytes) -> bytes:
        return file_digest(self.hash_oid, data)


def file_digest(hash_oid: bytes, data: bytes) -> bytes:
    digest = hashes.Hash(_HASHES[hash_oid]())
    digest.update(data)
    return digest.finalize()


def encode_signed_content(hash_oid: bytes, files: Mapping[int, bytes]) -> bytes:
    """The signed part: version, hash algorithm and the digest of every listed file."""
    entries = b"".join(
        tlv.encode(
            TAG_HASH_ENTRY,
            tlv.encode(TAG_FILE_ID, file_id.to_bytes(2, "big"))
            + tlv.encode(TAG_DIGEST, file_digest(hash_oid, data)),
        )
        for file_id, data in sorted(files.items())
    )
    body = (
        tlv.encode(TAG_VERSION, VERSION)
        + tlv.encode(TAG_HASH_ALGORITHM, hash_oid)
        + tlv.encode(TAG_HASH_LIST, entries)
    )
    return tlv.encode(TAG_SIGNED_CONTENT, body)


def encode_security_object(signed_content: bytes, signature: bytes, signer_der: bytes) -> bytes:
    return tlv.encode(
        TAG_SECURITY_OBJECT,
        signed_content + tlv.encode(TAG_SIGNATURE, signature) + tlv.encode(TAG_SIGNER_CERTIFICATE, signer_der),
    )


def parse_security_object(raw: bytes) -> SecurityObject | SecurityObjectError:
    """Parse the whole file strictly; the signed content is kept byte for byte as read."""
    outer = tlv.parse_single(raw, TAG_SECURITY_OBJECT)
    if isinstance(outer, tlv.TlvError):
        return _malformed(outer)
    first = tlv.parse_one(outer)
    if isinstance(first, tlv.TlvError):
        return _malformed(first)
    content, after_content = first
    if content.tag != TAG_SIGNED_CONTENT:
        return SecurityObjectError(SecurityObjectProblem.MALFORMED, "signed content missing")
    rest = tlv.fields(outer[after_content:], (TAG_SIGNATURE, TAG_SIGNER_CERTIFICATE))
    if isinstance(rest, tlv.TlvError):
        return _malformed(rest)
    body = tlv.fields(content.value, (TAG_VERSION, TAG_HASH_ALGORITHM, TAG_HASH_LIST))
    if isinstance(body, tlv.TlvError):
        return _malformed(body)
    if body[TAG_VERSION] != VERSION:
        return SecurityObjectError(SecurityObjectProblem.UNSUPPORTED, "version")
    hash_oid = body[TAG_HASH_ALGORITHM]
    if hash_oid not in _HASHES:
        return SecurityObjectError(SecurityObjectProblem.UNSUPPORTED, "hash algorithm")
    file_hashes = _hash_list(body[TAG_HASH_LIST])
    if isinstance(file_hashes, SecurityObjectError):
        return file_hashes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            signer = x509.load_der_x509_certificate(rest[TAG_SIGNER_CERTIFICATE])
    except (ValueError, x509.InvalidVersion, CryptographyDeprecationWarning) as exc:
        return SecurityObjectError(SecurityObjectProblem.BAD_CERTIFICATE, str(exc))
    return SecurityObject(hash_oid, file_hashes, bytes(outer[:after_content]), rest[TAG_SIGNATURE], signer)


def signature_valid(security_object: SecurityObject) -> bool:
    """Whether the signer certificate's key signed the content (ECDSA with SHA-256, or Ed25519)."""
    return verify_signature(
        security_object.signer.public_key(), security_object.signature, security_object.signed_content
    )


def verify_signature(public_key: object, signature: bytes, data: bytes) -> bool:
    try:
        match public_key:
            case ec.EllipticCurvePublicKey():
                public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            case ed25519.Ed25519PublicKey():
                public_key.verify(signature, data)
            case _:
                return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _hash_list(raw: bytes) -> dict[int, bytes] | SecurityObjectError:
    entries = tlv.parse_all(raw)
    if isinstance(entries, tlv.TlvError):
        return _malformed(entries)
    result: dict[int, bytes] = {}
    for entry in entries:
        if entry.tag != TAG_HASH_ENTRY:
            return SecurityObjectError(SecurityObjectProblem.MALFORMED, f"hash list tag {entry.tag:X}")
        parts = tlv.fields(entry.value, (TAG_FILE_ID, TAG_DIGEST))
        if isinstance(parts, tlv.TlvError):
            return _malformed(parts)
        if len(parts[TAG_FILE_ID]) != 2:
            return SecurityObjectError(SecurityObjectProblem.MALFORMED, "file id length")
        file_id = int.from_bytes(parts[TAG_FILE_ID], "big")
        if file_id in result:
            return SecurityObjectError(SecurityObjectProblem.MALFORMED, f"file {file_id:04X} listed twice")
        result[file_id] = parts[TAG_DIGEST]
    return result


def _malformed(error: tlv.TlvError) -> SecurityObjectError:
    return SecurityObjectError(SecurityObjectProblem.MALFORMED, f"{error.problem} at {error.offset} {error.detail}")
