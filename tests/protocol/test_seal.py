"""Signed answers and sealed national codes: only the center's key makes an answer; only it reads a code."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jws
from joserfc.jwk import OctKey

from protocol.codec import ProblemKind, ProtocolError
from protocol.national_code import NationalCode
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_answer,
    public_part,
    seal_national_code,
    sign_answer,
    unseal_national_code,
)
from tests.protocol.test_codec import ELIGIBLE

CENTER = generate_signing_key()
CENTER_PUBLIC = public_part(CENTER)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_signed_answer_opens_with_the_center_public_key() -> None:
    assert open_answer(sign_answer(ELIGIBLE, CENTER), CENTER_PUBLIC) == ELIGIBLE


@pytest.mark.parametrize("position", [0, 40, -5])
def test_any_changed_byte_breaks_the_signature(position: int) -> None:
    token = bytearray(sign_answer(ELIGIBLE, CENTER))
    token[position] = ord("A") if token[position] != ord("A") else ord("B")
    result = open_answer(bytes(token), CENTER_PUBLIC)
    assert isinstance(result, ProtocolError)


def test_an_answer_signed_by_another_key_is_refused() -> None:
    result = open_answer(sign_answer(ELIGIBLE, generate_signing_key()), CENTER_PUBLIC)
    assert isinstance(result, ProtocolError) and result.kind is ProblemKind.BAD_SIGNATURE


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "vk-answer+jws"}).encode())
    payload = sign_answer(ELIGIBLE, CENTER).split(b".")[1].decode()
    result = open_answer(f"{header}.{payload}.".encode(), CENTER_PUBLIC)
    assert isinstance(result, ProtocolError) and result.kind is ProblemKind.BAD_SIGNATURE


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    secret = OctKey.import_key(json.dumps(CENTER_PUBLIC.as_dict()).encode())
    token = jws.serialize_compact({"alg": "HS256", "typ": "vk-answer+jws"},
                                  sign_answer(ELIGIBLE, CENTER).split(b".")[1], secret)
    result = open_answer(token.encode(), CENTER_PUBLIC)
    assert isinstance(result, ProtocolError) and result.kind is ProblemKind.BAD_SIGNATURE


def test_a_signed_document_of_another_type_is_refused() -> None:
    header = {"alg": "Ed25519", "typ": "other", "kid": CENTER.thumbprint()}
    token = jws.serialize_compact(header, b"{}", CENTER, algorithms=["Ed25519"])
    result = open_answer(token.encode(), CENTER_PUBLIC)
    assert isinstance(result, ProtocolError) and result.where == "jws.typ", result


def test_an_oversized_token_is_refused_before_any_work() -> None:
    result = open_answer(b"a" * 100_000, CENTER_PUBLIC)
    assert isinstance(result, ProtocolError) and result.kind is ProblemKind.OVERSIZED


def test_a_sealed_code_opens_only_with_the_center_sealing_key() -> None:
    key = generate_sealing_key()
    sealed = seal_national_code(NationalCode("0012345679"), public_part(key))
    assert "0012345679" not in sealed
    assert unseal_national_code(sealed, key) == NationalCode("0012345679")
    other = unseal_national_code(sealed, generate_sealing_key())
    assert isinstance(other, ProtocolError) and other.kind is ProblemKind.NOT_SEALED


def test_sealing_the_same_code_twice_gives_different_tokens() -> None:
    key = public_part(generate_sealing_key())
    assert seal_national_code(NationalCode("0012345679"), key) != seal_national_code(NationalCode("0012345679"), key)


def test_garbage_instead_of_a_sealed_code_is_refused() -> None:
    assert isinstance(unseal_national_code("not.a.jwe.at.all", generate_sealing_key()), ProtocolError)
