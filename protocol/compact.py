"""Strict shape checks of compact JWS and JWE before any JOSE library sees them: segments, base64url, headers."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from protocol.codec import ProblemKind, ProtocolError, escaped, load_json_object

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_KEY_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
_X25519_PUBLIC = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_HEADER_BYTES = 512


def check_jws(token: str, *, alg: str, typ: str) -> ProtocolError | None:
    """None if `token` is a compact JWS whose protected header is exactly {alg, typ, kid} with these values
    and a key thumbprint; otherwise why not. Nothing here trusts the token: the signature is checked after."""
    segments = _segments(token, 3, ProblemKind.BAD_SIGNATURE)
    if isinstance(segments, ProtocolError):
        return segments
    header = _header(segments[0], ProblemKind.BAD_SIGNATURE)
    if isinstance(header, ProtocolError):
        return header
    return _exact(header, {"alg": alg, "typ": typ}, {"kid": _KEY_THUMBPRINT}, ProblemKind.BAD_SIGNATURE, "jws")


def is_signed_as(payload: bytes, *, alg: str, typ: str) -> bool:
    """Whether the bytes have the shape `check_jws` accepts for this type: how a receiver tells message types
    apart before it verifies the one that matched."""
    try:
        token = payload.decode("ascii")
    except UnicodeDecodeError:
        return False
    return check_jws(token, alg=alg, typ=typ) is None


def check_jwe(token: str, *, alg: str, enc: str) -> ProtocolError | None:
    """None if `token` is a compact JWE with key agreement (no encrypted key) whose header is exactly
    {alg, enc, epk} and whose ephemeral key is an X25519 public key; otherwise why not."""
    segments = _segments(token, 5, ProblemKind.NOT_SEALED)
    if isinstance(segments, ProtocolError):
        return segments
    if segments[1]:
        return ProtocolError(ProblemKind.NOT_SEALED, "jwe.encrypted_key")
    header = _header(segments[0], ProblemKind.NOT_SEALED)
    if isinstance(header, ProtocolError):
        return header
    epk = header.get("epk")
    problem = _exact(header, {"alg": alg, "enc": enc}, {"epk": None}, ProblemKind.NOT_SEALED, "jwe")
    if problem is not None:
        return problem
    if not isinstance(epk, dict):
        return ProtocolError(ProblemKind.NOT_SEALED, "jwe.epk")
    return _exact(epk, {"kty": "OKP", "crv": "X25519"}, {"x": _X25519_PUBLIC}, ProblemKind.NOT_SEALED, "jwe.epk")


def _segments(token: str, count: int, kind: ProblemKind) -> list[str] | ProtocolError:
    segments = token.split(".")
    if len(segments) != count:
        return ProtocolError(kind, f"compact form: {min(len(segments), 99)} segments")
    for index, segment in enumerate(segments):
        if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
            return ProtocolError(kind, f"compact form: segment {index}")
    return segments


def _header(segment: str, kind: ProblemKind) -> dict[str, Any] | ProtocolError:
    if len(segment) > MAX_HEADER_BYTES * 4 // 3 + 4:
        return ProtocolError(kind, "header oversized")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return ProtocolError(kind, "header base64")
    header = load_json_object(raw, MAX_HEADER_BYTES)
    if isinstance(header, ProtocolError):
        return ProtocolError(kind, f"header {header.kind.value}")
    return header


def _exact(obj: dict[str, Any], values: dict[str, str], patterns: dict[str, re.Pattern[str] | None],
           kind: ProblemKind, where: str) -> ProtocolError | None:
    """Exactly these members: those in `values` equal to them, those in `patterns` strings matching them
    (a None pattern: present, checked by the caller)."""
    expected = values.keys() | patterns.keys()
    for name in sorted(obj.keys() ^ expected):
        return ProtocolError(kind, f"{where}.{escaped(name)}")
    for name, value in values.items():
        if type(obj[name]) is not str or obj[name] != value:
            return ProtocolError(kind, f"{where}.{name}")
    for name, pattern in patterns.items():
        if pattern is not None and (type(obj[name]) is not str or not pattern.fullmatch(obj[name])):
            return ProtocolError(kind, f"{where}.{name}")
    return None
