"""Signatures and sealing in standard formats: requests and answers as JWS (Ed25519), national codes as JWE (X25519)."""

from __future__ import annotations

from pathlib import Path

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from protocol.codec import (
    MAX_MESSAGE_BYTES,
    ProblemKind,
    ProtocolError,
    decode_answer,
    decode_extension,
    decode_request,
    encode_answer,
    encode_extension,
    encode_request,
)
from protocol.messages import Answer, Extension, Request
from protocol.national_code import NationalCode, NationalCodeRefusal, parse_national_code

SIGNATURE_ALG = "Ed25519"
ANSWER_TYPE = "vk-answer+jws"
REQUEST_TYPE = "vk-request+jws"
EXTENSION_TYPE = "vk-extension+jws"
SEAL_ALG = "ECDH-ES"
SEAL_ENC = "A256GCM"
MAX_SIGNED_BYTES = 2 * MAX_MESSAGE_BYTES


def generate_signing_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def generate_sealing_key() -> OKPKey:
    return OKPKey.generate_key("X25519")


def load_key(path: Path) -> OKPKey:
    """An OKP key (private or public) from a PEM file."""
    return OKPKey.import_key(path.read_bytes())


def save_key(key: OKPKey, path: Path, *, private: bool) -> None:
    """Write a PEM key; private keys are created 0600 and never widened."""
    data = key.as_pem(private=private)
    path.touch(mode=0o600 if private else 0o644, exist_ok=False)
    path.write_bytes(data)


def public_part(key: OKPKey) -> OKPKey:
    return OKPKey.import_key(key.as_dict(private=False))


def sign_answer(answer: Answer, key: OKPKey) -> bytes:
    """The center's answer as a compact JWS over its canonical JSON."""
    header = {"alg": SIGNATURE_ALG, "typ": ANSWER_TYPE, "kid": key.thumbprint()}
    token = jws.serialize_compact(header, encode_answer(answer), key, algorithms=[SIGNATURE_ALG])
    return token.encode("ascii")


def open_answer(data: bytes, center_key: OKPKey) -> Answer | ProtocolError:
    """Verify an answer's signature with the center's public key, then parse it strictly."""
    if len(data) > MAX_SIGNED_BYTES:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        token = jws.deserialize_compact(data.decode("ascii"), center_key, algorithms=[SIGNATURE_ALG])
    except (UnicodeDecodeError, ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, type(exc).__name__)
    if token.protected.get("typ") != ANSWER_TYPE:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "typ")
    return decode_answer(token.payload)


def sign_request(request: Request, key: OKPKey) -> bytes:
    """A terminal's request as a compact JWS of its own type over its canonical JSON, signed with its key."""
    header = {"alg": SIGNATURE_ALG, "typ": REQUEST_TYPE, "kid": key.thumbprint()}
    return jws.serialize_compact(header, encode_request(request), key, algorithms=[SIGNATURE_ALG]).encode("ascii")


def open_request(data: bytes, terminal_key: OKPKey) -> Request | ProtocolError:
    """Verify a request against the public key of the terminal it claims to come from, then parse it strictly."""
    if len(data) > MAX_SIGNED_BYTES:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        token = jws.deserialize_compact(data.decode("ascii"), terminal_key, algorithms=[SIGNATURE_ALG])
    except (UnicodeDecodeError, ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, type(exc).__name__)
    if token.protected.get("typ") != REQUEST_TYPE:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "typ")
    if token.protected.get("kid") != terminal_key.thumbprint():
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "kid")
    return decode_request(token.payload)


def sign_extension(extension: Extension, key: OKPKey) -> bytes:
    """A closing-time extension as a compact JWS of its own type, so it cannot pass for an answer."""
    header = {"alg": SIGNATURE_ALG, "typ": EXTENSION_TYPE, "kid": key.thumbprint()}
    return jws.serialize_compact(header, encode_extension(extension), key, algorithms=[SIGNATURE_ALG]).encode()


def open_extension(data: bytes, center_key: OKPKey) -> Extension | ProtocolError:
    if len(data) > MAX_SIGNED_BYTES:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        token = jws.deserialize_compact(data.decode("ascii"), center_key, algorithms=[SIGNATURE_ALG])
    except (UnicodeDecodeError, ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, type(exc).__name__)
    if token.protected.get("typ") != EXTENSION_TYPE:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "typ")
    return decode_extension(token.payload)


def seal_national_code(code: NationalCode, center_sealing_key: OKPKey) -> str:
    """Encrypt a national code so that only the center can read it (in transit and in the outbox)."""
    return jwe.encrypt_compact(
        {"alg": SEAL_ALG, "enc": SEAL_ENC},
        code.digits.encode("ascii"),
        center_sealing_key,
        algorithms=[SEAL_ALG, SEAL_ENC],
    )


def unseal_national_code(sealed: str, center_sealing_key: OKPKey) -> NationalCode | ProtocolError:
    """Decrypt and re-validate a sealed national code on the center."""
    try:
        plain = jwe.decrypt_compact(sealed, center_sealing_key, algorithms=[SEAL_ALG, SEAL_ENC]).plaintext
    except (ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.NOT_SEALED, type(exc).__name__)
    if plain is None:
        return ProtocolError(ProblemKind.NOT_SEALED, "empty")
    parsed = parse_national_code(plain.decode("ascii", errors="replace"))
    if isinstance(parsed, NationalCodeRefusal):
        return ProtocolError(ProblemKind.BAD_VALUE, f"body.sealed_voter:{parsed.problem.value}")
    return parsed
