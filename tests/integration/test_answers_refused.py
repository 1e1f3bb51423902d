"""Forged, unsigned, replayed and mis-addressed answers through the real broker: refused, no slip."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from joserfc import jws

from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed, OperatorRetry
from harness.district import VirtualDistrict
from protocol.codec import decode_request, encode_answer
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import Answer, AnswerHeader, Request, RequestKind, ReserveAnswer, ReserveOutcome
from protocol.seal import generate_signing_key, sign_answer
from protocol.topics import PREFIX, answer_topic
from tests.integration.conftest import TerminalFactory, Voters, card_of, confirm_until_reserving


class Sniffer:
    """An insider holding the center's broker credentials (or a compromised broker): reads every request and
    publishes whatever it likes on any terminal's answer topic. Only the center's signing key is out of reach."""

    def __init__(self, district: VirtualDistrict) -> None:
        self.requests: list[Request] = []
        self._seen = threading.Condition()
        self.session = district.center_session("insider", [f"{PREFIX}/{district.district}/+/req"], self._message)

    def _message(self, _topic: str, payload: bytes) -> None:
        with self._seen:
            request = decode_request(jws.extract_compact(payload).payload)
            if isinstance(request, Request):
                self.requests.append(request)
            self._seen.notify_all()

    def wait_reserve(self, terminal: str) -> Request:
        def reserves() -> list[Request]:
            return [r for r in self.requests if r.header.terminal == terminal and r.kind is RequestKind.RESERVE]

        with self._seen:
            assert self._seen.wait_for(reserves, timeout=10), "the terminal's reserve never crossed the broker"
            return reserves()[-1]

    def publish(self, district: str, terminal: str, payload: bytes) -> None:
        self.session.publish(answer_topic(district, terminal), payload)


@pytest.fixture
def sniffer(district: VirtualDistrict) -> Iterator[Sniffer]:
    rogue = Sniffer(district)
    rogue.session.start()
    assert rogue.session.wait_connected(10)
    yield rogue
    rogue.session.stop()


def _eligible_for(request: Request) -> Answer:
    header = AnswerHeader(request.header.request_id, request.header.tx_id, request.header.terminal,
                          datetime.now(UTC))
    body = ReserveAnswer(ReserveOutcome.ELIGIBLE, new_inquiry_code(), None, None, None, None)
    return Answer(request.kind, header, body)


@pytest.mark.parametrize("forgery", ["rogue_key", "unsigned"])
def test_a_forged_eligible_answer_is_refused_and_prints_nothing(
    forgery: str, district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, sniffer: Sniffer
) -> None:
    terminal = make_terminal()
    district.stop_center()
    try:
        confirm_until_reserving(terminal, voters.eligible())
        request = sniffer.wait_reserve(terminal.plan.identity.terminal)
        forged = _eligible_for(request)
        payload = sign_answer(forged, generate_signing_key()) if forgery == "rogue_key" else encode_answer(forged)
        sniffer.publish(district.district, terminal.plan.identity.terminal, payload)
        refused = terminal.wait_for(st.NoAnswer)
        assert isinstance(refused, st.NoAnswer) and refused.reason is st.NoAnswerReason.UNVERIFIABLE
        assert terminal.slips() == []
    finally:
        district.start_center()
    terminal.post(OperatorRetry())
    committing = terminal.wait_for(st.Committing)
    assert isinstance(committing, st.Committing)
    assert committing.inquiry_code != forged.body.inquiry_code  # type: ignore[union-attr]


def test_a_replayed_genuine_answer_is_dropped(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, sniffer: Sniffer
) -> None:
    terminal = make_terminal()
    name = terminal.plan.identity.terminal
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.Idle)
    old_answers = list(terminal.answers_received)
    district.stop_center()
    try:
        confirm_until_reserving(terminal, voters.eligible())
        for payload in old_answers:
            sniffer.publish(district.district, name, payload)
        no_answer = terminal.wait_for(st.NoAnswer)
        assert isinstance(no_answer, st.NoAnswer) and no_answer.reason is st.NoAnswerReason.TIMED_OUT
        assert len(terminal.slips()) == 1, "the replay must not print a second slip"
    finally:
        district.start_center()


def test_an_answer_for_another_terminal_is_refused(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, sniffer: Sniffer
) -> None:
    victim, other = make_terminal(), make_terminal()
    other.reader.insert(card_of(voters.eligible()))
    other.wait_for(st.AwaitingConfirmation)
    other.post(OperatorConfirmed())
    other.wait_for(st.Idle)
    genuine = other.answers_received[-1]
    district.stop_center()
    try:
        confirm_until_reserving(victim, voters.eligible())
        sniffer.publish(district.district, victim.plan.identity.terminal, genuine)
        refused = victim.wait_for(st.NoAnswer)
        assert isinstance(refused, st.NoAnswer) and refused.reason is st.NoAnswerReason.UNVERIFIABLE
        assert victim.slips() == []
    finally:
        district.start_center()
