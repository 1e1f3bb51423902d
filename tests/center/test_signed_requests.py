"""Requests signed by their terminal, sent within the window, each request id bound to one content."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.enrolled import EnrolledTerminals
from center.registry import Registry, ReservationState
from center.responder import REQUEST_WINDOW, Dropped, DropReason, Reply, Responder
from center.storage import RegistryDatabase
from protocol.codec import encode_request
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    CommitAnswer,
    CommitBody,
    CommitOutcome,
    Request,
    ReserveAnswer,
    ReserveOutcome,
    VoidAnswer,
    VoidBody,
    VoidOutcome,
    VoidReason,
)
from protocol.seal import ANSWER_TYPE, generate_signing_key, open_answer, public_part
from tests.center import as_terminal
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A, BRANCH_B, ELECTION_DAY, VOTER_KEY

START = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
ENROLLED = as_terminal.enrolled([BRANCH_A, BRANCH_B])


class Clock:
    """The center's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def center(registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey, clock: Clock) -> Iterator[Responder]:
    own = Registry(registry_database.session(), ELECTION_DAY, clock=clock, voter_key=VOTER_KEY)
    yield Responder(own, BRANCH_A.district, signing_key, sealing_key, clock, enrolled=ENROLLED)
    own.close()


def _reserve(sealing_key: OKPKey, sent_at: datetime = START, tx_id: str | None = None) -> Request:
    return as_terminal.request(BRANCH_A, as_terminal.reserve(BRANCH_A, ADULT, public_part(sealing_key)).body,
                               tx_id, sent_at)


def _dropped(center: Responder, payload: bytes, reason: DropReason) -> Dropped:
    outcome = center.handle(as_terminal.topic_of(BRANCH_A), payload)
    assert isinstance(outcome, Dropped), f"expected a drop ({reason.value}), got an answer: {outcome}"
    assert outcome.reason is reason, outcome
    return outcome


def _code(reply: Reply | Dropped) -> str:
    assert isinstance(reply, Reply), f"expected an answer, got {reply}"
    assert isinstance(reply.answer.body, ReserveAnswer) and reply.answer.body.outcome is ReserveOutcome.ELIGIBLE
    assert reply.answer.body.inquiry_code is not None
    return reply.answer.body.inquiry_code


@pytest.mark.parametrize("forgery", ["unsigned", "rogue_key", "other_terminals_key", "answer_type"])
def test_a_request_not_signed_by_its_terminal_is_dropped_and_changes_nothing(
    forgery: str, center: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    message = _reserve(sealing_key)
    own_key = as_terminal.signing_key_of(BRANCH_A.terminal)
    payload = {
        "unsigned": encode_request(message),
        "rogue_key": as_terminal.payload(message, generate_signing_key()),
        "other_terminals_key": as_terminal.payload(message, as_terminal.signing_key_of(BRANCH_B.terminal)),
        "answer_type": as_terminal.signed_bytes(encode_request(message), own_key, ANSWER_TYPE),
    }[forgery]
    dropped = _dropped(center, payload, DropReason.BAD_SIGNATURE)
    assert ADULT.digits not in dropped.detail
    assert registry.reservations() == []
    assert registry.answered_request(message.header.request_id) is None


def test_a_request_signed_by_its_terminal_naming_another_in_its_header_is_dropped(
    center: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    message = _reserve(sealing_key)
    posing = dataclasses.replace(message, header=dataclasses.replace(message.header, terminal=BRANCH_B.terminal))
    _dropped(center, as_terminal.payload(posing, as_terminal.signing_key_of(BRANCH_A.terminal)),
             DropReason.MISADDRESSED)
    assert registry.reservations() == []


@pytest.mark.parametrize("offset", [-REQUEST_WINDOW - timedelta(seconds=1), REQUEST_WINDOW + timedelta(seconds=1)])
def test_a_new_reserve_sent_outside_the_window_is_dropped_as_stale(
    offset: timedelta, center: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    _dropped(center, as_terminal.payload(_reserve(sealing_key, START + offset)), DropReason.STALE)
    assert registry.reservations() == []


def test_a_request_sent_just_inside_the_window_is_answered(center: Responder, sealing_key: OKPKey) -> None:
    late = _reserve(sealing_key, START - REQUEST_WINDOW + timedelta(seconds=1))
    _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(late)))


def test_a_byte_identical_resend_gets_the_same_signed_answer_even_after_the_window(
    center: Responder, clock: Clock, sealing_key: OKPKey
) -> None:
    payload = as_terminal.payload(_reserve(sealing_key))
    first = center.handle(as_terminal.topic_of(BRANCH_A), payload)
    code = _code(first)
    clock.now = START + timedelta(hours=2)
    again = center.handle(as_terminal.topic_of(BRANCH_A), payload)
    assert _code(again) == code
    assert isinstance(first, Reply) and isinstance(again, Reply) and again.payload == first.payload


def test_a_resend_after_a_restart_gets_the_stored_answer(
    registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey, center: Responder, clock: Clock
) -> None:
    payload = as_terminal.payload(_reserve(sealing_key))
    code = _code(center.handle(as_terminal.topic_of(BRANCH_A), payload))
    clock.now = START + timedelta(minutes=30)
    restarted = Registry(registry_database.session(), ELECTION_DAY, clock=clock, voter_key=VOTER_KEY)
    try:
        after = Responder(restarted, BRANCH_A.district, signing_key, sealing_key, clock, enrolled=ENROLLED)
        reply = after.handle(as_terminal.topic_of(BRANCH_A), payload)
        assert _code(reply) == code
        assert isinstance(reply, Reply)
        opened = open_answer(reply.payload, public_part(signing_key))
        assert isinstance(opened, Answer) and opened.header.center_time == START, "not the stored answer"
    finally:
        restarted.close()


def test_a_request_id_reused_with_other_content_is_dropped_and_changes_nothing(
    center: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    first = _reserve(sealing_key)
    _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(first)))
    before = registry.reservations()
    other_voter = as_terminal.reserve(BRANCH_A, ADULT_TWO, public_part(sealing_key))
    reused = dataclasses.replace(other_voter, header=dataclasses.replace(other_voter.header,
                                                                         request_id=first.header.request_id,
                                                                         sent_at=START))
    _dropped(center, as_terminal.payload(reused), DropReason.REQUEST_ID_REUSED)
    assert registry.reservations() == before


def test_a_request_id_of_another_terminal_is_not_handed_its_answer(
    center: Responder, registry: Registry, sealing_key: OKPKey
) -> None:
    first = _reserve(sealing_key)
    _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(first)))
    copied = dataclasses.replace(first, header=dataclasses.replace(
        first.header, terminal=BRANCH_B.terminal, branch=BRANCH_B.branch))
    outcome = center.handle(as_terminal.topic_of(BRANCH_B), as_terminal.payload(copied))
    assert isinstance(outcome, Dropped) and outcome.reason is DropReason.REQUEST_ID_REUSED, outcome
    assert len(registry.reservations()) == 1


def test_a_new_request_id_for_the_same_transaction_still_gets_the_same_code(
    center: Responder, clock: Clock, sealing_key: OKPKey
) -> None:
    first = _reserve(sealing_key)
    code = _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(first)))
    clock.now = START + timedelta(minutes=1)
    retry = _reserve(sealing_key, clock.now, tx_id=first.header.tx_id)
    assert _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(retry))) == code


def test_a_stale_opening_is_acknowledged_with_the_center_time_but_not_recorded(
    center: Responder, registry: Registry
) -> None:
    ahead = as_terminal.request(BRANCH_A, as_terminal.open_polls(BRANCH_A).body, sent_at=START + timedelta(hours=1))
    reply = center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(ahead))
    assert isinstance(reply, Reply) and reply.answer.body == AckAnswer(AckOutcome.ACK), reply
    assert reply.answer.header.center_time == START, "the terminal needs the center's time to see its clock is off"
    assert registry.poll_events(BRANCH_A.district, BRANCH_A.terminal) == []


def test_enrolled_keys_are_read_from_the_ca_folder_also_for_a_terminal_enrolled_later(tmp_path: Path) -> None:
    as_terminal.enrol(tmp_path / "ca", BRANCH_A)
    enrolled = EnrolledTerminals(tmp_path / "ca")
    assert list(enrolled) == [BRANCH_A.terminal]
    assert BRANCH_B.terminal not in enrolled
    as_terminal.enrol(tmp_path / "ca", BRANCH_B)
    record = enrolled[BRANCH_B.terminal]
    assert record.signing_key.thumbprint() == as_terminal.signing_key_of(BRANCH_B.terminal).thumbprint()
    assert (record.branch, record.district) == (BRANCH_B.branch, BRANCH_B.district)
    assert "../ca/terminals/t-b1" not in enrolled


def test_after_a_long_outage_a_never_seen_commit_or_void_still_settles_its_transaction(
    center: Responder, registry: Registry, clock: Clock, sealing_key: OKPKey
) -> None:
    reserved = _reserve(sealing_key)
    code = _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(reserved)))
    other_voter = as_terminal.reserve(BRANCH_A, ADULT_TWO, public_part(sealing_key)).body
    abandoned = as_terminal.request(BRANCH_A, other_voter, sent_at=START)
    _code(center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(abandoned)))
    commit = as_terminal.request(BRANCH_A, CommitBody(code, 0), reserved.header.tx_id, START)
    void = as_terminal.request(BRANCH_A, VoidBody(VoidReason.NO_ANSWER), abandoned.header.tx_id, START)
    clock.now = START + timedelta(hours=3)
    for late, expected in ((commit, CommitAnswer(CommitOutcome.COMMITTED)), (void, VoidAnswer(VoidOutcome.VOIDED))):
        reply = center.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(late))
        assert isinstance(reply, Reply) and reply.answer.body == expected, reply
    states = {row.tx_id: row.state for row in registry.reservations()}
    assert states == {reserved.header.tx_id: ReservationState.COMMITTED, abandoned.header.tx_id: ReservationState.VOIDED}
