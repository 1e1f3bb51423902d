"""The responder's answers to minutes and closings: recorded whatever their checks, idempotent by transaction and
content, a second different set a conflict kept beside the first, the signed request kept as evidence, a closing
answered with the branch's committed slips."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator

import pytest
from joserfc.jwk import OKPKey

from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.responder import Dropped, DropReason, Reply, Responder
from center.storage import RegistryDatabase
from protocol.codec import MAX_MINUTES_REQUEST_BYTES, encode_request, minutes_hash
from protocol.messages import (
    AckOutcome,
    Answer,
    CloseAnswer,
    DocumentKind,
    MinutesAnswer,
    MinutesOutcome,
    Request,
)
from protocol.seal import generate_signing_key, open_answer, public_part
from tests.center import as_terminal
from tests.center.minutes_sample import counted, minutes, minutes_request, signed_bundle
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A, BRANCH_A_SECOND, BRANCH_B, ELECTION_DAY, VOTER_KEY

ENROLLED = as_terminal.enrolled([BRANCH_A, BRANCH_A_SECOND, BRANCH_B])
DISTRICT_KEY = generate_signing_key()
BUNDLE = signed_bundle(DISTRICT_KEY)


@pytest.fixture
def responder(registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey) -> Iterator[Responder]:
    own = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    yield Responder(own, BRANCH_A.district, signing_key, sealing_key, enrolled=ENROLLED, bundle=BUNDLE)
    own.close()


def _reply(responder: Responder, message: Request, payload: bytes | None = None) -> Reply:
    reply = responder.handle(as_terminal.topic_of(_who(message)), payload or as_terminal.payload(message))
    assert isinstance(reply, Reply), f"expected an answer, got {reply}"
    return reply


def _who(message: Request) -> Requester:
    header = message.header
    return Requester(header.terminal, header.branch, header.district)


def _answer(responder: Responder, message: Request) -> MinutesAnswer:
    body = _reply(responder, message).answer.body
    assert isinstance(body, MinutesAnswer), body
    return body


def test_minutes_are_recorded_with_their_hash_and_the_signed_request_kept_as_evidence(
        responder: Responder, registry: Registry, signing_key: OKPKey) -> None:
    sent = minutes(bundle_hash=BUNDLE.hash)
    message = minutes_request(BRANCH_A, sent)
    payload = as_terminal.payload(message)
    reply = _reply(responder, message, payload)
    assert reply.answer.body == MinutesAnswer(MinutesOutcome.RECORDED, minutes_hash(sent))
    opened = open_answer(reply.payload, public_part(signing_key))
    assert isinstance(opened, Answer) and opened == reply.answer
    [row] = registry.minutes_of(BRANCH_A.district)
    assert (row.request, row.tx_id, row.requester) == (payload, message.header.tx_id, BRANCH_A)


def test_the_same_request_again_and_a_new_request_for_the_same_transaction_get_the_same_answer_and_one_row(
        responder: Responder, registry: Registry) -> None:
    sent = minutes(bundle_hash=BUNDLE.hash)
    message = minutes_request(BRANCH_A, sent)
    payload = as_terminal.payload(message)
    first = _reply(responder, message, payload)
    again = _reply(responder, message, payload)
    assert again.payload == first.payload, "the same bytes must get the stored answer"
    retry = minutes_request(BRANCH_A, sent, tx_id=message.header.tx_id)
    assert _answer(responder, retry) == first.answer.body
    assert len(registry.minutes_of(BRANCH_A.district)) == 1


def test_other_minutes_from_the_branch_are_a_conflict_and_both_are_kept(
        responder: Responder, registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    first, other = minutes(counted((200, 150, 40))), minutes(counted((40, 150, 200)))
    assert _answer(responder, minutes_request(BRANCH_A, first)).outcome is MinutesOutcome.RECORDED
    with caplog.at_level(logging.WARNING, logger="center.responder"):
        answer = _answer(responder, minutes_request(BRANCH_A, other))
    assert answer == MinutesAnswer(MinutesOutcome.CONFLICT, minutes_hash(other))
    assert _answer(responder, minutes_request(BRANCH_A_SECOND, other)).outcome is MinutesOutcome.CONFLICT
    assert {row.minutes_hash for row in registry.minutes_of(BRANCH_A.district)} == {minutes_hash(first),
                                                                                     minutes_hash(other)}
    assert "conflict" in caplog.text


def test_minutes_that_fail_their_checks_or_do_not_fit_the_bundle_are_recorded_and_noted(
        responder: Responder, registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    stuffed = minutes(counted((200, 150, 40)), slips=100)
    assert stuffed.failed, "the sample must fail a check"
    with caplog.at_level(logging.WARNING, logger="center.responder"):
        assert _answer(responder, minutes_request(BRANCH_A, stuffed)).outcome is MinutesOutcome.RECORDED
    assert "do not fit the district's election bundle" in caplog.text, "another bundle's hash is noted"
    assert len(registry.minutes_of(BRANCH_A.district)) == 1


def test_minutes_naming_another_branch_than_the_terminals_are_refused_and_not_kept(
        responder: Responder, registry: Registry) -> None:
    elsewhere = dataclasses.replace(BRANCH_A, branch=BRANCH_B.branch)
    dropped = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(minutes_request(elsewhere,
                                                                                                     minutes())))
    assert isinstance(dropped, Dropped) and dropped.reason is DropReason.WRONG_BRANCH, dropped
    assert registry.minutes_of(BRANCH_A.district) == []


def test_a_minutes_request_over_the_bound_is_refused_unparsed(responder: Responder, registry: Registry) -> None:
    raw = json.loads(encode_request(minutes_request(BRANCH_A, minutes())))
    raw["body"]["minutes"]["padding"] = "x" * MAX_MINUTES_REQUEST_BYTES
    signed = as_terminal.signed_bytes(json.dumps(raw).encode(), as_terminal.signing_key_of(BRANCH_A.terminal))
    dropped = responder.handle(as_terminal.topic_of(BRANCH_A), signed)
    assert isinstance(dropped, Dropped) and dropped.reason is DropReason.MALFORMED, dropped
    assert "oversized" in dropped.detail
    assert registry.minutes_of(BRANCH_A.district) == []


def test_a_closing_is_answered_with_the_slips_committed_for_the_whole_branch(
        responder: Responder, registry: Registry, sealing_key: OKPKey) -> None:
    for who, voter, tx in ((BRANCH_A, ADULT, "a"), (BRANCH_A_SECOND, ADULT_TWO, "b")):
        reserved = registry.reserve(ReserveClaim(tx * 32, voter, DocumentKind.SMART_CARD, False, who))
        assert isinstance(reserved, Reserved)
        registry.commit(tx * 32, who, reserved.inquiry_code, 0)
    trained = registry.reserve(ReserveClaim("c" * 32, ADULT, DocumentKind.SMART_CARD, True, BRANCH_A))
    assert isinstance(trained, Reserved)
    registry.commit("c" * 32, BRANCH_A, trained.inquiry_code, 0)
    closed = _reply(responder, as_terminal.close_polls(BRANCH_A, issued=1)).answer.body
    assert closed == CloseAnswer(AckOutcome.ACK, branch_committed=2), "both terminals' slips, no training slip"
    elsewhere = _reply(responder, as_terminal.close_polls(BRANCH_B, issued=0)).answer.body
    assert elsewhere == CloseAnswer(AckOutcome.ACK, branch_committed=0)
