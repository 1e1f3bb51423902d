"""Hostile JOSE headers and bodies: every one is a typed refusal before any library can trip over it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from harness.fuzz.hostile_jose import ed25519_signature
from protocol.codec import ProblemKind, ProtocolError, decode_answer, escaped, load_json_object
from protocol.national_code import NationalCode, complete_national_code, parse_national_code
from protocol.seal import (
    ANSWER_TYPE,
    REQUEST_TYPE,
    generate_sealing_key,
    generate_signing_key,
    open_answer,
    open_extension,
    open_request,
    public_part,
    seal_national_code,
    unseal_national_code,
)

SIGNER = generate_signing_key()
SIGNER_PUBLIC = public_part(SIGNER)
SEALING = generate_sealing_key()
_CODE = parse_national_code(complete_national_code("001234567"))
assert isinstance(_CODE, NationalCode)
CODE: NationalCode = _CODE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(header: dict[str, Any] | str, payload: bytes = b"{}") -> bytes:
    """A compact JWS with exactly this header (a dict, or raw header text), signed for real by SIGNER."""
    text = header if isinstance(header, str) else json.dumps(header)
    signing_input = f"{_b64(text.encode())}.{_b64(payload)}"
    return f"{signing_input}.{_b64(ed25519_signature(SIGNER, signing_input.encode()))}".encode()


def _sealed_with(header: dict[str, Any]) -> str:
    genuine = seal_national_code(CODE, public_part(SEALING)).split(".")
    return ".".join([_b64(json.dumps(header).encode()), *genuine[1:]])


BASE = {"alg": "Ed25519", "typ": REQUEST_TYPE, "kid": SIGNER.thumbprint()}


@pytest.mark.parametrize("crit", [[1], [{}], [[]], [None], ["b64"], "b64", {}, 1])
def test_an_odd_crit_header_is_a_typed_refusal(crit: Any) -> None:
    refused = open_request(_signed({**BASE, "crit": crit}), SIGNER_PUBLIC)
    assert isinstance(refused, ProtocolError), refused
    assert refused.kind is ProblemKind.BAD_SIGNATURE and refused.where == "jws.crit", refused


@pytest.mark.parametrize("epk", [
    {"kty": "EC", "crv": "P-256", "x": _b64(b"x" * 32), "y": _b64(b"y" * 32)},
    {"kty": "OKP", "crv": "X448", "x": _b64(b"x" * 56)},
    {"kty": "OKP", "crv": "Ed25519", "x": _b64(b"x" * 32)},
    {"kty": "OKP", "crv": "X25519"},
    {"kty": "OKP", "crv": "X25519", "x": 7},
    [1], "OKP", None,
])
def test_a_sealed_code_with_an_ephemeral_key_of_another_kind_is_refused(epk: Any) -> None:
    refused = unseal_national_code(_sealed_with({"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk}), SEALING)
    assert isinstance(refused, ProtocolError) and refused.kind is ProblemKind.NOT_SEALED, refused


def test_a_genuine_sealed_code_still_opens() -> None:
    assert unseal_national_code(seal_national_code(CODE, public_part(SEALING)), SEALING) == CODE


def test_a_header_with_a_member_twice_is_refused() -> None:
    text = json.dumps(BASE)[:-1] + ', "alg": "none"}'
    refused = open_request(_signed(text), SIGNER_PUBLIC)
    assert isinstance(refused, ProtocolError) and refused.where == "header duplicate_key", refused


def test_a_json_member_twice_is_refused_not_last_one_wins() -> None:
    refused = load_json_object(b'{"v": 1, "kind": "reserve", "kind": "commit"}')
    assert refused == ProtocolError(ProblemKind.DUPLICATE_KEY, "kind")


def test_a_field_name_cannot_forge_a_log_line() -> None:
    refused = decode_answer(b'{"v": 1, "kind": "reserve", "x\\nWARNING forged\\u202e": 1}')
    assert isinstance(refused, ProtocolError)
    assert "\n" not in str(refused) and "\u202e" not in str(refused), str(refused)
    assert escaped("a\nb\u202ec") == "a\\nb\\u202ec"


@pytest.mark.parametrize("year", ["9999", "0001", "1969", "2100"])
def test_a_time_far_from_any_election_is_refused_when_parsed(year: str) -> None:
    body = {"v": 1, "kind": "extension", "district": "D01", "closes_at": f"{year}-01-01T00:00:00.000000Z",
            "issued_at": "2026-06-12T10:00:00.000000Z"}
    header = {"alg": "Ed25519", "typ": "vk-extension+jws", "kid": SIGNER.thumbprint()}
    refused = open_extension(_signed(header, json.dumps(body).encode()), SIGNER_PUBLIC)
    assert refused == ProtocolError(ProblemKind.BAD_VALUE, "closes_at"), refused


_VALUES = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.floats(allow_nan=False) | hs.text(max_size=20),
    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_NAMES = hs.sampled_from(["crit", "alg", "enc", "epk", "kid", "typ", "zip", "b64", "cty", "jwk", "x5c"])


@settings(max_examples=400, deadline=None)
@given(changes=hs.dictionaries(_NAMES, _VALUES, max_size=4), drop=hs.lists(_NAMES, max_size=2))
def test_no_signed_header_makes_verification_raise(changes: dict[str, Any], drop: list[str]) -> None:
    header = {name: value for name, value in {**BASE, **changes}.items() if name not in drop}
    for opened in (open_request(_signed(header), SIGNER_PUBLIC),
                   open_answer(_signed({**header, "typ": ANSWER_TYPE}), SIGNER_PUBLIC),
                   open_extension(_signed(header), SIGNER_PUBLIC)):
        assert not (isinstance(opened, ProtocolError) and opened.kind is ProblemKind.PARSER_FAULT), opened


@settings(max_examples=400, deadline=None)
@given(changes=hs.dictionaries(_NAMES, _VALUES, max_size=4), epk=_VALUES)
def test_no_sealing_header_makes_unsealing_raise(changes: dict[str, Any], epk: Any) -> None:
    header = {"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk, **changes}
    opened = unseal_national_code(_sealed_with(header), SEALING)
    assert isinstance(opened, ProtocolError) and opened.kind is not ProblemKind.PARSER_FAULT, opened


def test_a_time_inside_the_wire_window_parses_and_is_left_to_the_election_day_bounds() -> None:
    body = {"v": 1, "kind": "extension", "district": "D01", "closes_at": "2099-12-31T23:59:59.999999Z",
            "issued_at": "2026-06-12T10:00:00.000000Z"}
    header = {"alg": "Ed25519", "typ": "vk-extension+jws", "kid": SIGNER.thumbprint()}
    opened = open_extension(_signed(header, json.dumps(body).encode()), SIGNER_PUBLIC)
    assert not isinstance(opened, ProtocolError), opened
    assert opened.closes_at == datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
