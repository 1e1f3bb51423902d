"""The protocol parser: every malformed message is a typed error and nothing else happens."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from protocol.codec import (
    MAX_MINUTES_REQUEST_BYTES,
    ProblemKind,
    ProtocolError,
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
)
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import (
    Answer,
    AnswerHeader,
    CommitBody,
    DocumentKind,
    IneligibleReason,
    Request,
    RequestHeader,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidBody,
    VoidReason,
)

AT = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)
HEADER = RequestHeader("1" * 32, "2" * 32, "T-0101-1", "B-0101", "D01", AT)
RESERVE = Request(HEADER, ReserveBody("sealed.jwe.token.x.y", DocumentKind.SMART_CARD, False))
ELIGIBLE = Answer(RequestKind.RESERVE, AnswerHeader("1" * 32, "2" * 32, "T-0101-1", AT),
                  ReserveAnswer(ReserveOutcome.ELIGIBLE, new_inquiry_code(), None, None, None, None))


def _reserve_json() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(encode_request(RESERVE))
    return loaded


def _refused(obj: object) -> ProtocolError:
    result = decode_request(json.dumps(obj).encode())
    assert isinstance(result, ProtocolError), f"accepted {obj!r}"
    return result


def test_requests_and_answers_round_trip() -> None:
    assert decode_request(encode_request(RESERVE)) == RESERVE
    commit = Request(HEADER, CommitBody(new_inquiry_code(), 1))
    assert decode_request(encode_request(commit)) == commit
    void = Request(HEADER, VoidBody(VoidReason.PRINT_FAILED))
    assert decode_request(encode_request(void)) == void
    assert decode_answer(encode_answer(ELIGIBLE)) == ELIGIBLE


@pytest.mark.parametrize(
    ("change", "problem", "where"),
    [
        (lambda m: m.update(v=2), ProblemKind.WRONG_VERSION, "v"),
        (lambda m: m.update(v="1"), ProblemKind.WRONG_VERSION, "v"),
        (lambda m: m.update(v=True), ProblemKind.WRONG_VERSION, "v"),
        (lambda m: m.pop("v"), ProblemKind.MISSING_FIELD, "v"),
        (lambda m: m.update(kind="vote"), ProblemKind.UNKNOWN_KIND, "kind"),
        (lambda m: m.pop("tx_id"), ProblemKind.MISSING_FIELD, "tx_id"),
        (lambda m: m.update(extra=1), ProblemKind.EXTRA_FIELD, "extra"),
        (lambda m: m["body"].update(national_code="0012345679"), ProblemKind.EXTRA_FIELD, "body.national_code"),
        (lambda m: m["body"].pop("document"), ProblemKind.MISSING_FIELD, "body.document"),
        (lambda m: m["body"].update(document="passport"), ProblemKind.BAD_VALUE, "body.document"),
        (lambda m: m["body"].update(training=0), ProblemKind.WRONG_TYPE, "body.training"),
        (lambda m: m.update(body=[]), ProblemKind.WRONG_TYPE, "body"),
        (lambda m: m.update(request_id="XYZ"), ProblemKind.BAD_VALUE, "request_id"),
        (lambda m: m.update(terminal="T/+/#"), ProblemKind.BAD_VALUE, "terminal"),
        (lambda m: m.update(terminal=7), ProblemKind.WRONG_TYPE, "terminal"),
        (lambda m: m.update(sent_at="2026-11-29 08:30"), ProblemKind.BAD_VALUE, "sent_at"),
        (lambda m: m.update(sent_at="2026-13-29T08:30:15.000000Z"), ProblemKind.BAD_VALUE, "sent_at"),
        (lambda m: m["body"].update(sealed_voter="x" * 2000), ProblemKind.BAD_VALUE, "body.sealed_voter"),
    ],
)
def test_a_malformed_request_is_refused_with_its_place(change: Any, problem: ProblemKind, where: str) -> None:
    message = _reserve_json()
    change(message)
    refused = _refused(message)
    assert (refused.kind, refused.where) == (problem, where)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", ProblemKind.NOT_JSON),
        (b"{", ProblemKind.NOT_JSON),
        (b"\xff\xfe", ProblemKind.NOT_JSON),
        (b"[1, 2]", ProblemKind.WRONG_TYPE),
        (b'{"v": NaN}', ProblemKind.NOT_JSON),
        (b"[" * 100_000, ProblemKind.OVERSIZED),
        (b" " * (MAX_MINUTES_REQUEST_BYTES + 1), ProblemKind.OVERSIZED),
    ],
)
def test_garbage_is_refused(data: bytes, problem: ProblemKind) -> None:
    result = decode_request(data)
    assert isinstance(result, ProtocolError) and result.kind is problem


def test_commit_reprints_must_be_a_small_count() -> None:
    message = json.loads(encode_request(Request(HEADER, CommitBody(new_inquiry_code(), 0))))
    message["body"]["reprints"] = -1
    assert _refused(message).where == "body.reprints"
    message["body"]["reprints"] = 1.0
    assert _refused(message).kind is ProblemKind.WRONG_TYPE


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "ELIGIBLE", "inquiry_code": None},
        {"outcome": "ELIGIBLE", "inquiry_code": "123456789"},
        {"outcome": "ELIGIBLE", "first_branch": "B-1"},
        {"outcome": "DUPLICATE", "inquiry_code": None, "first_branch": None},
        {"outcome": "INELIGIBLE", "ineligible_reason": None},
        {"outcome": "INELIGIBLE", "ineligible_reason": "deceased", "inquiry_code": "PLACEHOLDER"},
    ],
)
def test_an_answer_whose_fields_do_not_fit_its_outcome_is_refused(body: dict[str, Any]) -> None:
    message = json.loads(encode_answer(ELIGIBLE))
    message["body"].update(body)
    if message["body"].get("inquiry_code") == "PLACEHOLDER":
        message["body"]["inquiry_code"] = new_inquiry_code()
    result = decode_answer(json.dumps(message).encode())
    assert isinstance(result, ProtocolError) and result.kind is ProblemKind.BAD_VALUE


def test_an_ineligible_answer_round_trips() -> None:
    answer = Answer(RequestKind.RESERVE, ELIGIBLE.header,
                    ReserveAnswer(ReserveOutcome.INELIGIBLE, None, IneligibleReason.UNDER_AGE, None, None, None))
    assert decode_answer(encode_answer(answer)) == answer


_json = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.floats(allow_nan=False) | hs.text(max_size=20),
    lambda children: hs.lists(children, max_size=4) | hs.dictionaries(hs.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(hs.binary(max_size=300))
def test_any_bytes_give_a_message_or_a_typed_error(data: bytes) -> None:
    assert isinstance(decode_request(data), Request | ProtocolError)
    assert isinstance(decode_answer(data), Answer | ProtocolError)


@settings(max_examples=300)
@given(hs.sampled_from(sorted(_reserve_json())), _json)
def test_replacing_any_field_with_any_json_gives_a_message_or_a_typed_error(name: str, value: object) -> None:
    message = _reserve_json()
    message[name] = value
    result = decode_request(json.dumps(message).encode())
    assert isinstance(result, Request | ProtocolError)
    if isinstance(result, Request):
        assert result == decode_request(encode_request(result))


@settings(max_examples=200)
@given(hs.data())
def test_truncating_a_valid_message_anywhere_is_refused(data: hs.DataObject) -> None:
    encoded = encode_request(RESERVE)
    cut = data.draw(hs.integers(min_value=0, max_value=len(encoded) - 1))
    assert isinstance(decode_request(encoded[:cut]), ProtocolError)
