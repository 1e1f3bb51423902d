"""Signed requests: only the terminal's own key makes one, and it cannot pass for an answer or the reverse."""

from __future__ import annotations

import base64
import json

import pytest

from protocol.codec import ProblemKind, ProtocolError, encode_request
from protocol.seal import (
    MAX_SIGNED_REQUEST_BYTES,
    generate_signing_key,
    open_answer,
    open_request,
    public_part,
    sign_answer,
    sign_request,
)
from tests.protocol.test_codec import ELIGIBLE, RESERVE

TERMINAL = generate_signing_key()
TERMINAL_PUBLIC = public_part(TERMINAL)


def _refused(result: object, kind: ProblemKind = ProblemKind.BAD_SIGNATURE) -> None:
    assert isinstance(result, ProtocolError), f"expected a refusal, got {result}"
    assert result.kind is kind, result


def test_a_signed_request_opens_with_the_terminal_public_key() -> None:
    assert open_request(sign_request(RESERVE, TERMINAL), TERMINAL_PUBLIC) == RESERVE


def test_signing_the_same_request_twice_gives_the_same_bytes() -> None:
    assert sign_request(RESERVE, TERMINAL) == sign_request(RESERVE, TERMINAL)


def test_the_header_names_the_type_and_the_key() -> None:
    header = json.loads(_decode(sign_request(RESERVE, TERMINAL).split(b".")[0]))
    assert header == {"alg": "Ed25519", "typ": "vk-request+jws", "kid": TERMINAL_PUBLIC.thumbprint()}


@pytest.mark.parametrize("position", [0, 40, -5])
def test_any_changed_byte_breaks_the_signature(position: int) -> None:
    token = bytearray(sign_request(RESERVE, TERMINAL))
    token[position] = ord("A") if token[position] != ord("A") else ord("B")
    assert isinstance(open_request(bytes(token), TERMINAL_PUBLIC), ProtocolError)


def test_a_request_signed_by_another_key_is_refused() -> None:
    _refused(open_request(sign_request(RESERVE, generate_signing_key()), TERMINAL_PUBLIC))


def test_an_unsigned_request_is_refused() -> None:
    _refused(open_request(encode_request(RESERVE), TERMINAL_PUBLIC))


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "vk-request+jws"}).encode())
    _refused(open_request(f"{header}.{_b64(encode_request(RESERVE))}.".encode(), TERMINAL_PUBLIC))


def test_an_answer_cannot_pass_for_a_request_nor_a_request_for_an_answer() -> None:
    _refused(open_request(sign_answer(ELIGIBLE, TERMINAL), TERMINAL_PUBLIC))
    _refused(open_answer(sign_request(RESERVE, TERMINAL), TERMINAL_PUBLIC))


def test_an_oversized_token_is_refused_before_any_work() -> None:
    _refused(open_request(b"a" * (MAX_SIGNED_REQUEST_BYTES + 1), TERMINAL_PUBLIC), ProblemKind.OVERSIZED)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(part: bytes) -> bytes:
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
