"""Signatures and sealing in standard formats: requests and answers as JWS (Ed25519), national codes as JWE (X25519)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from protocol.codec import (
    MAX_ELECTION_BUNDLE_BYTES,
    MAX_INSTRUCTIONS_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_MINUTES_REQUEST_BYTES,
    MAX_PERMIT_BYTES,
    ProblemKind,
    ProtocolError,
    decode_answer,
    decode_chunk_manifest,
    decode_counting_instructions,
    decode_election_bundle,
    decode_extension,
    decode_health,
    decode_offline_issue,
    decode_permit,
    decode_permit_activation,
    decode_permit_end,
    decode_request,
    decode_status,
    encode_answer,
    encode_chunk_manifest,
    encode_counting_instructions,
    encode_election_bundle,
    encode_extension,
    encode_offline_issue,
    encode_permit,
    encode_permit_activation,
    encode_permit_end,
    encode_request,
    encode_telemetry,
)
from protocol.compact import check_jwe, check_jws
from protocol.messages import Answer, CountingInstructions, Extension, Request
from protocol.minutes import ElectionBundle
from protocol.national_code import NationalCode, NationalCodeRefusal, parse_issued_national_code
from protocol.offline_code import OfflineIssue
from protocol.permit import Permit, PermitActivation, PermitEnd, PermitSecrets
from protocol.telemetry import HealthReport, Telemetry, TerminalStatus
from protocol.voted_snapshot import MAX_BODY_BYTES, ChunkManifest, SnapshotChunk, decode_tags

SIGNATURE_ALG = "Ed25519"
ANSWER_TYPE = "vk-answer+jws"
REQUEST_TYPE = "vk-request+jws"
EXTENSION_TYPE = "vk-extension+jws"
ELECTION_BUNDLE_TYPE = "vk-election-bundle+jws"
INSTRUCTIONS_TYPE = "vk-instructions+jws"
STATUS_TYPE = "vk-status+jws"
HEALTH_TYPE = "vk-health+jws"
SEAL_ALG = "ECDH-ES"
SEAL_ENC = "A256GCM"
MAX_SIGNED_BYTES = 2 * MAX_MESSAGE_BYTES
MAX_SIGNED_REQUEST_BYTES = 2 * MAX_MINUTES_REQUEST_BYTES
"""A signed request: a branch's minutes at most (codec refuses any other kind above MAX_MESSAGE_BYTES)."""


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
    return _sign(ANSWER_TYPE, encode_answer(answer), key)


def open_answer(data: bytes, center_key: OKPKey) -> Answer | ProtocolError:
    """Verify an answer's signature with the center's public key, then parse it strictly."""
    payload = _verified(data, center_key, ANSWER_TYPE)
    return payload if isinstance(payload, ProtocolError) else decode_answer(payload)


def sign_request(request: Request, key: OKPKey) -> bytes:
    """A terminal's request as a compact JWS of its own type over its canonical JSON, signed with its key."""
    return _sign(REQUEST_TYPE, encode_request(request), key)


def open_request(data: bytes, terminal_key: OKPKey) -> Request | ProtocolError:
    """Verify a request against the public key of the terminal it claims to come from, then parse it strictly."""
    payload = _verified(data, terminal_key, REQUEST_TYPE, check_kid=True, limit=MAX_SIGNED_REQUEST_BYTES)
    return payload if isinstance(payload, ProtocolError) else decode_request(payload)


def sign_extension(extension: Extension, key: OKPKey) -> bytes:
    """A closing-time extension as a compact JWS of its own type, so it cannot pass for an answer."""
    return _sign(EXTENSION_TYPE, encode_extension(extension), key)


def open_extension(data: bytes, center_key: OKPKey) -> Extension | ProtocolError:
    payload = _verified(data, center_key, EXTENSION_TYPE)
    return payload if isinstance(payload, ProtocolError) else decode_extension(payload)


def sign_counting_instructions(instructions: CountingInstructions, key: OKPKey) -> bytes:
    """The district's counting instructions as a compact JWS of their own type (the center's key)."""
    return _sign(INSTRUCTIONS_TYPE, encode_counting_instructions(instructions), key)


def open_counting_instructions(data: bytes, center_key: OKPKey, district: str
                               ) -> CountingInstructions | ProtocolError:
    """Instructions verified with the center's key and parsed strictly; another district's are refused."""
    payload = _verified(data, center_key, INSTRUCTIONS_TYPE, limit=2 * MAX_INSTRUCTIONS_BYTES)
    if isinstance(payload, ProtocolError):
        return payload
    instructions = decode_counting_instructions(payload)
    if not isinstance(instructions, ProtocolError) and instructions.district != district:
        return ProtocolError(ProblemKind.BAD_VALUE, "district")
    return instructions


def _sign(typ: str, payload: bytes, key: OKPKey) -> bytes:
    header = {"alg": SIGNATURE_ALG, "typ": typ, "kid": key.thumbprint()}
    return jws.serialize_compact(header, payload, key, algorithms=[SIGNATURE_ALG]).encode("ascii")


def sign_election_bundle(bundle: ElectionBundle, key: OKPKey) -> bytes:
    """The district's election bundle as a compact JWS of its own type, so it cannot pass for anything else."""
    return _sign(ELECTION_BUNDLE_TYPE, encode_election_bundle(bundle), key)


def open_election_bundle(data: bytes, district_key: OKPKey, district: str) -> ElectionBundle | ProtocolError:
    """A bundle verified with the district's key and parsed strictly; a bundle of another district is refused."""
    payload = _verified(data, district_key, ELECTION_BUNDLE_TYPE, limit=2 * MAX_ELECTION_BUNDLE_BYTES)
    if isinstance(payload, ProtocolError):
        return payload
    bundle = decode_election_bundle(payload)
    if not isinstance(bundle, ProtocolError) and bundle.district != district:
        return ProtocolError(ProblemKind.BAD_VALUE, "district")
    return bundle


def election_bundle_hash(signed: bytes) -> str:
    """SHA-256 (hex) of a signed election bundle, the compact JWS as sent (surrounding whitespace aside): what
    minutes name as the bundle their figures are shaped by."""
    return hashlib.sha256(signed.strip()).hexdigest()


def sign_telemetry(message: Telemetry, key: OKPKey) -> bytes:
    """A terminal's status or health report, signed with its request-signing key, each a JWS of its own type."""
    typ = STATUS_TYPE if isinstance(message, TerminalStatus) else HEALTH_TYPE
    return _sign(typ, encode_telemetry(message), key)


def open_status(data: bytes, terminal_key: OKPKey) -> TerminalStatus | ProtocolError:
    payload = _verified(data, terminal_key, STATUS_TYPE, check_kid=True)
    return payload if isinstance(payload, ProtocolError) else decode_status(payload)


def open_health(data: bytes, terminal_key: OKPKey) -> HealthReport | ProtocolError:
    payload = _verified(data, terminal_key, HEALTH_TYPE, check_kid=True, limit=4 * MAX_MESSAGE_BYTES)
    return payload if isinstance(payload, ProtocolError) else decode_health(payload)


def _verified(data: bytes, key: OKPKey, typ: str, *, check_kid: bool = False,
              limit: int = MAX_SIGNED_BYTES) -> bytes | ProtocolError:
    """The payload of a compact JWS signed by `key` with this `typ` (and `kid`, if asked), or why not."""
    if len(data) > limit:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "not ascii")
    shape = check_jws(text, alg=SIGNATURE_ALG, typ=typ)
    if shape is not None:
        return shape
    try:
        token = jws.deserialize_compact(text, key, algorithms=[SIGNATURE_ALG])
    except (ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, type(exc).__name__)
    except Exception as exc:
        return ProtocolError(ProblemKind.PARSER_FAULT, f"jws: {type(exc).__name__}")
    if check_kid and token.protected.get("kid") != key.thumbprint():
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "kid")
    return token.payload


def seal_national_code(code: NationalCode, center_sealing_key: OKPKey) -> str:
    """Encrypt a national code so that only the center can read it (in transit and in the outbox)."""
    return jwe.encrypt_compact(
        {"alg": SEAL_ALG, "enc": SEAL_ENC},
        code.digits.encode("ascii"),
        center_sealing_key,
        algorithms=[SEAL_ALG, SEAL_ENC],
    )


def unseal_national_code(sealed: str, center_sealing_key: OKPKey) -> NationalCode | ProtocolError:
    """Decrypt and re-validate a sealed national code on the center: exactly 10 ASCII digits inside."""
    shape = check_jwe(sealed, alg=SEAL_ALG, enc=SEAL_ENC)
    if shape is not None:
        return shape
    try:
        plain = jwe.decrypt_compact(sealed, center_sealing_key, algorithms=[SEAL_ALG, SEAL_ENC]).plaintext
    except (ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.NOT_SEALED, type(exc).__name__)
    except Exception as exc:
        return ProtocolError(ProblemKind.PARSER_FAULT, f"jwe: {type(exc).__name__}")
    if plain is None:
        return ProtocolError(ProblemKind.NOT_SEALED, "empty")
    if not plain.isascii():
        return ProtocolError(ProblemKind.BAD_VALUE, "body.sealed_voter:not_a_digit")
    parsed = parse_issued_national_code(plain.decode("ascii"))
    if isinstance(parsed, NationalCodeRefusal):
        return ProtocolError(ProblemKind.BAD_VALUE, f"body.sealed_voter:{parsed.problem.value}")
    return parsed


PERMIT_TYPE = "vk-permit+jws"
PERMIT_ACTIVATION_TYPE = "vk-permit-activation+jws"
PERMIT_END_TYPE = "vk-permit-end+jws"
OFFLINE_ISSUE_TYPE = "vk-offline-issue+jws"
SNAPSHOT_CHUNK_TYPE = "vk-voted-snapshot+jws"


def sign_permit(permit: Permit, district_key: OKPKey) -> bytes:
    """An offline-operation permit as a compact JWS of its own type, signed with the district's key."""
    return _sign(PERMIT_TYPE, encode_permit(permit), district_key)


def open_permit(data: bytes, district_key: OKPKey) -> Permit | ProtocolError:
    payload = _verified(data, district_key, PERMIT_TYPE, limit=2 * MAX_PERMIT_BYTES)
    return payload if isinstance(payload, ProtocolError) else decode_permit(payload)


def sign_permit_activation(activation: PermitActivation, district_key: OKPKey) -> bytes:
    return _sign(PERMIT_ACTIVATION_TYPE, encode_permit_activation(activation), district_key)


def open_permit_activation(data: bytes, district_key: OKPKey) -> PermitActivation | ProtocolError:
    payload = _verified(data, district_key, PERMIT_ACTIVATION_TYPE)
    return payload if isinstance(payload, ProtocolError) else decode_permit_activation(payload)


def sign_permit_end(end: PermitEnd, district_key: OKPKey) -> bytes:
    return _sign(PERMIT_END_TYPE, encode_permit_end(end), district_key)


def open_permit_end(data: bytes, district_key: OKPKey) -> PermitEnd | ProtocolError:
    payload = _verified(data, district_key, PERMIT_END_TYPE)
    return payload if isinstance(payload, ProtocolError) else decode_permit_end(payload)


def sign_offline_issue(issue: OfflineIssue, terminal_key: OKPKey) -> bytes:
    """A terminal's offline issue record, signed with its request-signing key, a JWS of its own type."""
    return _sign(OFFLINE_ISSUE_TYPE, encode_offline_issue(issue), terminal_key)


def open_offline_issue(data: bytes, terminal_key: OKPKey) -> OfflineIssue | ProtocolError:
    """Verify an offline issue against the key of the terminal it names (`kid` checked), then parse it."""
    payload = _verified(data, terminal_key, OFFLINE_ISSUE_TYPE, check_kid=True)
    return payload if isinstance(payload, ProtocolError) else decode_offline_issue(payload)


def seal_permit_secrets(secrets: PermitSecrets, terminal_permit_key: OKPKey) -> str:
    """The permit's secrets encrypted (JWE, ECDH-ES X25519, A256GCM) to one terminal's public permit key."""
    return jwe.encrypt_compact({"alg": SEAL_ALG, "enc": SEAL_ENC}, secrets.to_bytes(), terminal_permit_key,
                               algorithms=[SEAL_ALG, SEAL_ENC])


def open_permit_secrets(permit: Permit, terminal: str, terminal_permit_key: OKPKey) -> PermitSecrets | ProtocolError:
    """The secrets the permit seals to `terminal`, decrypted with its private permit key."""
    sealed = next((entry.sealed for entry in permit.secrets if entry.terminal == terminal), None)
    if sealed is None:
        return ProtocolError(ProblemKind.MISSING_FIELD, "secrets")
    return unseal_permit_secrets(sealed, terminal_permit_key)


def unseal_permit_secrets(sealed: str, permit_key: OKPKey) -> PermitSecrets | ProtocolError:
    """Permit secrets sealed by seal_permit_secrets, decrypted with the private key they were sealed to (a
    terminal's permit key, or the district's own copy's key)."""
    shape = check_jwe(sealed, alg=SEAL_ALG, enc=SEAL_ENC)
    if shape is not None:
        return shape
    try:
        plain = jwe.decrypt_compact(sealed, permit_key, algorithms=[SEAL_ALG, SEAL_ENC]).plaintext
    except (ValueError, JoseError) as exc:
        return ProtocolError(ProblemKind.NOT_SEALED, type(exc).__name__)
    except Exception as exc:
        return ProtocolError(ProblemKind.PARSER_FAULT, f"jwe: {type(exc).__name__}")
    secrets = None if plain is None else PermitSecrets.from_bytes(plain)
    return ProtocolError(ProblemKind.BAD_VALUE, "secrets") if secrets is None else secrets


def sign_snapshot_chunk(manifest: ChunkManifest, body: bytes, center_key: OKPKey) -> bytes:
    """A snapshot chunk on the wire: the manifest as a compact JWS of its own type (binding the body by its
    SHA-256 and length), a newline, then the body's bytes as they are, so the body is not base64'd twice."""
    if manifest.digest != hashlib.sha256(body).hexdigest() or manifest.body_bytes != len(body):
        raise ValueError("the manifest does not describe this body")
    return _sign(SNAPSHOT_CHUNK_TYPE, encode_chunk_manifest(manifest), center_key) + b"\n" + body


def open_snapshot_chunk(data: bytes, center_key: OKPKey) -> SnapshotChunk | ProtocolError:
    """Verify a chunk: the signed manifest, then the body against its digest and its coding (sorted tags inside
    the manifest's range); an oversized chunk is refused before anything is parsed."""
    if len(data) > MAX_SIGNED_BYTES + 1 + MAX_BODY_BYTES:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    token, newline, body = data.partition(b"\n")
    if not newline:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "no body")
    payload = _verified(token, center_key, SNAPSHOT_CHUNK_TYPE)
    if isinstance(payload, ProtocolError):
        return payload
    manifest = decode_chunk_manifest(payload)
    if isinstance(manifest, ProtocolError):
        return manifest
    if len(body) != manifest.body_bytes or hashlib.sha256(body).hexdigest() != manifest.digest:
        return ProtocolError(ProblemKind.BAD_SIGNATURE, "body digest")
    tags = decode_tags(manifest, body)
    if isinstance(tags, str):
        return ProtocolError(ProblemKind.BAD_VALUE, f"body.{tags}")
    return SnapshotChunk(manifest, body)
