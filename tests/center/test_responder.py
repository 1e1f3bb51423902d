"""The responder: signed answers bound to the request, strict refusal of anything malformed or misaddressed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import OKPKey

from center.registry import Registry, Requester, ReservationState
from center.responder import Dropped, DropReason, Reply, Responder
from center.storage import RegistryDatabase
from protocol.codec import ProtocolError, encode_request
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    CloseAnswer,
    CommitAnswer,
    CommitOutcome,
    IneligibleReason,
    Request,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidAnswer,
    VoidOutcome,
)
from protocol.seal import generate_sealing_key, open_answer, public_part
from protocol.topics import answer_topic, request_topic
from tests.center import as_terminal
from tests.center.sample import ADULT, BRANCH_A, BRANCH_A_SECOND, BRANCH_B, DECEASED, ELECTION_DAY, VOTER_KEY

CENTER_TIME = datetime.now(UTC).replace(microsecond=0)
"""A fixed instant for the center's clock, near the time the test requests are stamped with."""
ENROLLED = as_terminal.enrolled([BRANCH_A, BRANCH_A_SECOND, BRANCH_B])


@pytest.fixture
def responder(registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey) -> Iterator[Responder]:
    own = Registry(registry_database.session(), ELECTION_DAY, clock=lambda: CENTER_TIME, voter_key=VOTER_KEY)
    yield Responder(own, BRANCH_A.district, signing_key, sealing_key, clock=lambda: CENTER_TIME,
                    enrolled=ENROLLED)
    own.close()


def _answer(responder: Responder, signing_key: OKPKey, message: Request, topic: str | None = None) -> Answer:
    reply = responder.handle(topic or as_terminal.topic_of(message_requester(message)), as_terminal.payload(message))
    assert isinstance(reply, Reply), f"expected an answer, got {reply}"
    assert reply.topic == answer_topic(message.header.district, message.header.terminal)
    opened = open_answer(reply.payload, public_part(signing_key))
    assert isinstance(opened, Answer), f"the answer does not verify: {opened}"
    assert opened == reply.answer
    assert (opened.header.request_id, opened.header.tx_id, opened.header.terminal) == (
        message.header.request_id, message.header.tx_id, message.header.terminal,
    )
    assert opened.header.center_time == CENTER_TIME
    return opened


def message_requester(message: Request) -> Requester:
    return Requester(message.header.terminal, message.header.branch, message.header.district)


def _reserve_body(answer: Answer) -> ReserveAnswer:
    assert isinstance(answer.body, ReserveAnswer)
    return answer.body


def test_a_whole_voter_reserve_then_commit(responder: Responder, signing_key: OKPKey, sealing_key: OKPKey) -> None:
    reserve = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    body = _reserve_body(_answer(responder, signing_key, reserve))
    assert body.outcome is ReserveOutcome.ELIGIBLE
    assert body.inquiry_code is not None
    commit = as_terminal.commit(BRANCH_A, reserve.header.tx_id, body.inquiry_code)
    assert _answer(responder, signing_key, commit).body == CommitAnswer(CommitOutcome.COMMITTED)
    assert responder.status().answered == 2


def test_a_retried_reserve_gets_the_same_inquiry_code(
    responder: Responder, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    first = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    again = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key), tx_id=first.header.tx_id)
    code = _reserve_body(_answer(responder, signing_key, first)).inquiry_code
    assert _reserve_body(_answer(responder, signing_key, again)).inquiry_code == code


def test_a_second_branch_gets_duplicate_with_the_first_branch(
    responder: Responder, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    _answer(responder, signing_key, as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key)))
    body = _reserve_body(_answer(responder, signing_key, as_terminal.reserve(BRANCH_B, ADULT, public_part(sealing_key))))
    assert (body.outcome, body.first_branch, body.first_at) == (ReserveOutcome.DUPLICATE, BRANCH_A.branch, CENTER_TIME)
    assert body.inquiry_code is None


def test_an_ineligible_voter_gets_the_reason(responder: Responder, signing_key: OKPKey, sealing_key: OKPKey) -> None:
    body = _reserve_body(_answer(responder, signing_key, as_terminal.reserve(BRANCH_A, DECEASED, public_part(sealing_key))))
    assert (body.outcome, body.ineligible_reason) == (ReserveOutcome.INELIGIBLE, IneligibleReason.DECEASED)


def test_void_frees_the_voter_and_a_retry_of_the_voided_reserve_says_voided(
    responder: Responder, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    reserve = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    _answer(responder, signing_key, reserve)
    void = as_terminal.void(BRANCH_A, reserve.header.tx_id)
    assert _answer(responder, signing_key, void).body == VoidAnswer(VoidOutcome.VOIDED)
    retry = dataclasses.replace(reserve, header=dataclasses.replace(reserve.header, request_id=as_terminal.new_id()))
    assert _reserve_body(_answer(responder, signing_key, retry)).outcome is ReserveOutcome.VOIDED
    other = as_terminal.reserve(BRANCH_B, ADULT, public_part(sealing_key))
    assert _reserve_body(_answer(responder, signing_key, other)).outcome is ReserveOutcome.ELIGIBLE


def test_a_voter_sealed_to_another_key_is_rejected_and_nothing_is_reserved(
    responder: Responder, registry: Registry, signing_key: OKPKey
) -> None:
    stranger = public_part(generate_sealing_key())
    body = _reserve_body(_answer(responder, signing_key, as_terminal.reserve(BRANCH_A, ADULT, stranger)))
    assert body.outcome is ReserveOutcome.REJECTED
    assert registry.reservations() == []


def test_open_and_close_are_acknowledged_and_kept_once(
    responder: Responder, registry: Registry, signing_key: OKPKey
) -> None:
    opened = as_terminal.open_polls(BRANCH_A)
    closed = as_terminal.close_polls(BRANCH_A, issued=7)
    for message in (opened, opened):
        assert _answer(responder, signing_key, message).body == AckAnswer(AckOutcome.ACK)
    assert _answer(responder, signing_key, closed).body == CloseAnswer(AckOutcome.ACK, branch_committed=0)
    events = registry.poll_events(BRANCH_A.district, BRANCH_A.terminal)
    assert [kind for kind, _ in events] == [RequestKind.OPEN, RequestKind.CLOSE]
    assert json.loads(events[1][1])["counts"]["issued"] == 7


def test_a_void_from_another_terminal_gets_no_answer_and_changes_nothing(
    responder: Responder, registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    reserve = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    _answer(responder, signing_key, reserve)
    dropped = responder.handle(as_terminal.topic_of(BRANCH_B), as_terminal.payload(as_terminal.void(BRANCH_B, reserve.header.tx_id)))
    assert isinstance(dropped, Dropped)
    assert dropped.reason is DropReason.OTHER_TERMINALS_TX
    assert [r.state for r in registry.reservations()] == [ReservationState.RESERVED]


@pytest.mark.parametrize("kind", ["reserve", "open", "close"])
def test_a_terminal_naming_another_branch_than_its_enrolment_is_refused_and_nothing_is_recorded(
    kind: str, responder: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    elsewhere = dataclasses.replace(BRANCH_A, branch=BRANCH_B.branch)
    request = {
        "reserve": lambda: as_terminal.reserve(elsewhere, ADULT, public_part(sealing_key)),
        "open": lambda: as_terminal.open_polls(elsewhere),
        "close": lambda: as_terminal.close_polls(elsewhere, 0),
    }[kind]()
    dropped = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(request))
    assert isinstance(dropped, Dropped) and dropped.reason is DropReason.WRONG_BRANCH, dropped
    assert BRANCH_A.branch in dropped.detail and BRANCH_B.branch in dropped.detail
    assert (responder.status().answered, responder.status().dropped) == (0, 1)
    assert registry.reservations() == [], "a reservation was recorded for a branch the terminal does not serve"
    assert registry.poll_events(BRANCH_A.district, BRANCH_A.terminal) == []
    assert registry.answered_count(BRANCH_A.district, BRANCH_A.terminal) == 0


def test_a_terminal_enrolled_in_another_district_is_refused_even_on_this_districts_topic(
    registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    elsewhere = {BRANCH_A.terminal: dataclasses.replace(as_terminal.enrolment(BRANCH_A), district="d-other")}
    responder = Responder(registry, BRANCH_A.district, signing_key, sealing_key, clock=lambda: CENTER_TIME,
                          enrolled=elsewhere)
    request = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    dropped = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(request))
    assert isinstance(dropped, Dropped) and dropped.reason is DropReason.WRONG_BRANCH, dropped
    assert registry.reservations() == []


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        (request_topic(BRANCH_A.district, BRANCH_B.terminal), DropReason.BAD_SIGNATURE),
        (request_topic(BRANCH_A.district, "t-unknown"), DropReason.UNKNOWN_TERMINAL),
        (request_topic("d-other", BRANCH_A.terminal), DropReason.OTHER_DISTRICT),
        (answer_topic(BRANCH_A.district, BRANCH_A.terminal), DropReason.NOT_A_REQUEST_TOPIC),
    ],
)
def test_a_request_on_the_wrong_topic_is_dropped(
    responder: Responder, registry: Registry, sealing_key: OKPKey, topic: str, reason: DropReason
) -> None:
    message = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    dropped = responder.handle(topic, as_terminal.payload(message))
    assert isinstance(dropped, Dropped)
    assert dropped.reason is reason
    assert registry.reservations() == []
    assert responder.status().dropped == 1


def test_a_malformed_request_is_dropped_without_echoing_it(
    responder: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    message = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    raw = json.loads(encode_request(message))
    raw["body"]["national_code"] = ADULT.digits
    signed = as_terminal.signed_bytes(json.dumps(raw).encode(), as_terminal.signing_key_of(BRANCH_A.terminal))
    dropped = responder.handle(as_terminal.topic_of(BRANCH_A), signed)
    assert isinstance(dropped, Dropped)
    assert dropped.reason is DropReason.MALFORMED
    assert ADULT.digits not in dropped.detail
    assert registry.reservations() == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_are_dropped_unsigned_or_signed(
    payload: bytes, registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    responder = Responder(registry, BRANCH_A.district, signing_key, sealing_key, enrolled=ENROLLED)
    unsigned = responder.handle(as_terminal.topic_of(BRANCH_A), payload)
    assert isinstance(unsigned, Dropped) and unsigned.reason is DropReason.BAD_SIGNATURE, unsigned
    signed = as_terminal.signed_bytes(payload, as_terminal.signing_key_of(BRANCH_A.terminal))
    parsed = responder.handle(as_terminal.topic_of(BRANCH_A), signed)
    assert isinstance(parsed, Dropped) and parsed.reason is DropReason.MALFORMED, parsed
    assert registry.reservations() == []


def test_the_reserve_body_never_carries_the_plain_national_code(sealing_key: OKPKey) -> None:
    message = as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key))
    assert isinstance(message.body, ReserveBody)
    assert ADULT.digits.encode() not in as_terminal.payload(message)
    assert not isinstance(message, ProtocolError)
