"""The responder's boundary: a fault is a typed drop and an alarm, a flood is rate limited, storage is bounded."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from joserfc.jwk import OKPKey

from center.rate_limit import RateLimit, TokenBuckets
from center.registry import Registry, Requester, ReservationState
from center.responder import Dropped, DropReason, Reply, Responder
from center.storage import RegistryDatabase
from protocol.messages import ReserveAnswer, ReserveOutcome
from tests.center import as_terminal
from tests.center.sample import ADULT, BRANCH_A, BRANCH_B, ELECTION_DAY, VOTER_KEY

ENROLLED = as_terminal.enrolled([BRANCH_A])


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _responder(registry: Registry, signing_key: OKPKey, sealing_key: OKPKey, **limits: object) -> Responder:
    return Responder(registry, BRANCH_A.district, signing_key, sealing_key, enrolled=ENROLLED,
                     **limits)  # type: ignore[arg-type]


@pytest.fixture
def own_registry(registry_database: RegistryDatabase) -> Iterator[Registry]:
    opened = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    yield opened
    opened.close()


def test_a_fault_while_handling_is_a_typed_drop_an_alarm_and_changes_nothing(
    own_registry: Registry, signing_key: OKPKey, sealing_key: OKPKey, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    responder = _responder(own_registry, signing_key, sealing_key)
    message = as_terminal.reserve(BRANCH_A, ADULT, sealing_key)

    def broken(*_args: object) -> None:
        raise KeyError("1234567890 from a payload")

    monkeypatch.setattr(Registry, "reserve", broken)
    with caplog.at_level(logging.ERROR, logger="center.responder"):
        outcome = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(message))
    assert isinstance(outcome, Dropped) and outcome.reason is DropReason.FAULT, outcome
    assert outcome.detail.startswith("KeyError at center/"), outcome.detail
    assert "1234567890" not in caplog.text, "the fault's message (which may quote the input) was logged"
    assert "ALARM" in caplog.text
    assert responder.status().faults == 1
    monkeypatch.undo()
    assert own_registry.reservations() == [], "a request that faulted left a change behind"
    again = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(message))
    assert isinstance(again, Reply), "the same request, once the fault is gone, is answered"


def test_a_terminal_that_floods_is_rate_limited_and_refills() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(RateLimit(per_second=10, burst=5), clock)
    assert [buckets.allow("t") for _ in range(6)] == [True] * 5 + [False]
    assert buckets.allow("other"), "one terminal's flood must not limit another"
    clock.now += 0.1
    assert buckets.allow("t") and not buckets.allow("t")


def test_the_buckets_remember_a_bounded_number_of_terminals() -> None:
    buckets = TokenBuckets(RateLimit(per_second=1, burst=1, tracked=3), FakeClock())
    for name in "abcdef":
        buckets.allow(name)
    assert buckets.allow("f") is False and buckets.allow("a") is True, "the oldest was forgotten, the newest kept"


def test_a_flood_through_the_responder_is_refused_before_it_costs_anything(
    own_registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    responder = _responder(own_registry, signing_key, sealing_key, rate_limit=RateLimit(per_second=0.001, burst=3))
    outcomes = [responder.handle(as_terminal.topic_of(BRANCH_A), b"junk") for _ in range(5)]
    reasons = [o.reason for o in outcomes if isinstance(o, Dropped)]
    assert reasons == [DropReason.BAD_SIGNATURE] * 3 + [DropReason.RATE_LIMITED] * 2, reasons


def test_answers_kept_per_terminal_are_bounded_and_a_full_quota_changes_nothing(
    own_registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    responder = _responder(own_registry, signing_key, sealing_key, answer_quota=2)
    for _ in range(2):
        assert isinstance(responder.handle(as_terminal.topic_of(BRANCH_A),
                                           as_terminal.payload(as_terminal.open_polls(BRANCH_A))), Reply)
    reserve = as_terminal.reserve(BRANCH_A, ADULT, sealing_key)
    refused = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(reserve))
    assert isinstance(refused, Dropped) and refused.reason is DropReason.QUOTA_EXCEEDED, refused
    assert not [r for r in own_registry.reservations() if r.state is ReservationState.RESERVED]
    assert own_registry.answered_count(BRANCH_A.district, BRANCH_A.terminal) == 2


def test_a_topic_with_control_characters_cannot_forge_a_log_line(
    own_registry: Registry, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    responder = _responder(own_registry, signing_key, sealing_key)
    outcome = responder.handle("vk/v1/D\nERROR forged\u202e/t-1/req", b"x")
    assert isinstance(outcome, Dropped)
    assert "\n" not in outcome.detail and "\u202e" not in outcome.detail, outcome.detail


def test_only_a_terminals_newest_answers_are_kept_and_a_pruned_retry_gets_the_same_code(
    registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    kept = 3
    registry = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY, answers_kept=kept)
    try:
        responder = _responder(registry, signing_key, sealing_key)
        reserve = as_terminal.reserve(BRANCH_A, ADULT, sealing_key)
        first = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(reserve))
        assert isinstance(first, Reply) and isinstance(first.answer.body, ReserveAnswer), first
        code = first.answer.body.inquiry_code
        assert registry.answered_request(reserve.header.request_id) is not None
        openings = [as_terminal.open_polls(BRANCH_A) for _ in range(kept)]
        for opening in openings:
            assert isinstance(responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(opening)), Reply)
        assert registry.answered_request(reserve.header.request_id) is None, "the oldest answer was not pruned"
        assert all(registry.answered_request(o.header.request_id) is not None for o in openings)
        assert registry.answered_count(BRANCH_A.district, BRANCH_A.terminal) == kept + 1, "the quota counts every answer given"
        again = responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(reserve))
        assert isinstance(again, Reply) and isinstance(again.answer.body, ReserveAnswer), again
        assert (again.answer.body.outcome, again.answer.body.inquiry_code) == (ReserveOutcome.ELIGIBLE, code)
        assert len([r for r in registry.reservations() if r.state is ReservationState.RESERVED]) == 1
    finally:
        registry.close()


def test_pruning_one_terminals_answers_keeps_every_other_terminals(
    registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    registry = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY, answers_kept=1)
    try:
        responder = Responder(registry, BRANCH_A.district, signing_key, sealing_key,
                              enrolled=as_terminal.enrolled([BRANCH_A, BRANCH_B]))
        other = as_terminal.open_polls(BRANCH_B)
        assert isinstance(responder.handle(as_terminal.topic_of(BRANCH_B), as_terminal.payload(other)), Reply)
        for _ in range(3):
            opening = as_terminal.open_polls(BRANCH_A)
            assert isinstance(responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(opening)), Reply)
        assert registry.answered_request(other.header.request_id) is not None
        assert registry.answered_request(opening.header.request_id) is not None
    finally:
        registry.close()


NAMESAKE = Requester(BRANCH_A.terminal, BRANCH_A.branch, "d-elsewhere")
"""BRANCH_A's terminal and branch names in another district, on the same (national) registry."""


def _namesake_responder(registry: Registry, signing_key: OKPKey, sealing_key: OKPKey, **limits: object) -> Responder:
    return Responder(registry, NAMESAKE.district, signing_key, sealing_key, enrolled=as_terminal.enrolled([NAMESAKE]),
                     **limits)  # type: ignore[arg-type]


def test_same_named_terminals_of_two_districts_have_quotas_of_their_own(
    registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    here = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    elsewhere = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        ours = _responder(here, signing_key, sealing_key, answer_quota=2)
        theirs = _namesake_responder(elsewhere, signing_key, sealing_key, answer_quota=2)
        for _ in range(2):
            assert isinstance(theirs.handle(as_terminal.topic_of(NAMESAKE),
                                            as_terminal.payload(as_terminal.open_polls(NAMESAKE))), Reply)
        full = theirs.handle(as_terminal.topic_of(NAMESAKE), as_terminal.payload(as_terminal.open_polls(NAMESAKE)))
        assert isinstance(full, Dropped) and full.reason is DropReason.QUOTA_EXCEEDED, full
        reserve = as_terminal.reserve(BRANCH_A, ADULT, sealing_key)
        answered = ours.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(reserve))
        assert isinstance(answered, Reply), f"the namesake's full quota refused {BRANCH_A.district}'s terminal: {answered}"
        assert (here.answered_count(BRANCH_A.district, BRANCH_A.terminal),
                here.answered_count(NAMESAKE.district, NAMESAKE.terminal)) == (1, 2)
    finally:
        here.close()
        elsewhere.close()


def test_pruning_a_terminals_answers_keeps_those_of_its_namesake_in_another_district(
    registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    here = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY, answers_kept=1)
    elsewhere = Registry(registry_database.session(), ELECTION_DAY, voter_key=VOTER_KEY, answers_kept=1)
    try:
        ours = _responder(here, signing_key, sealing_key)
        theirs = _namesake_responder(elsewhere, signing_key, sealing_key)
        kept = as_terminal.open_polls(NAMESAKE)
        kept_bytes = as_terminal.payload(kept)
        first = theirs.handle(as_terminal.topic_of(NAMESAKE), kept_bytes)
        assert isinstance(first, Reply), first
        for _ in range(3):
            opening = as_terminal.open_polls(BRANCH_A)
            assert isinstance(ours.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(opening)), Reply)
        assert here.answered_request(kept.header.request_id) is not None, \
            f"{BRANCH_A.district}'s terminal's answers pruned its namesake's in {NAMESAKE.district}"
        assert here.answered_request(opening.header.request_id) is not None
        again = theirs.handle(as_terminal.topic_of(NAMESAKE), kept_bytes)
        assert isinstance(again, Reply) and again.payload == first.payload, "the namesake's answer was not kept"
    finally:
        here.close()
        elsewhere.close()
