"""Signed requests through the real broker and center: forgeries and stale requests change nothing and get no
answer, a resend after a center restart gets the stored answer, and a terminal with a wrong clock does not open."""

from __future__ import annotations

import json
import logging
import queue
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.registry import utc_now
from center.service import CenterService
from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.effects import AlarmKind
from firmware_app.flow.notices import ClockOff
from firmware_app.runtime.settings import TerminalIdentity
from harness.district import VirtualDistrict
from protocol.codec import encode_request
from protocol.messages import (
    Answer,
    DocumentKind,
    Request,
    RequestBody,
    RequestHeader,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidAnswer,
    VoidBody,
    VoidOutcome,
    VoidReason,
)
from protocol.mqtt import MqttSession
from protocol.national_code import to_persian_digits
from protocol.seal import generate_signing_key, open_answer, seal_national_code, sign_request
from protocol.topics import answer_topic, request_topic
from tests.integration.conftest import TerminalFactory, Voters

WAIT = 10.0
RESEND_SECONDS = 0.5


class SignedProbe:
    """An enrolled terminal on a bare MQTT session: publishes what it is told on its request topic, reads answers."""

    def __init__(self, district: VirtualDistrict) -> None:
        name = f"S-{secrets.token_hex(3)}"
        installation = district.provision(name, f"B-{name}", district.work_dir / "probes" / name)
        self.identity = TerminalIdentity(name, installation.branch, district.district)
        self.key = installation.signing_key
        self._district = district
        self._answers: queue.Queue[bytes] = queue.Queue()
        self.session = MqttSession(name, district.broker.address, [answer_topic(district.district, name)],
                                   lambda _topic, payload: self._answers.put(payload), tls=installation.tls)

    def request(self, body: RequestBody, sent_at: datetime | None = None) -> Request:
        who = self.identity
        header = RequestHeader(secrets.token_hex(16), secrets.token_hex(16), who.terminal, who.branch, who.district,
                               sent_at or datetime.now(UTC))
        return Request(header, body)

    def reserve(self, voters: Voters, sent_at: datetime | None = None) -> Request:
        sealed = seal_national_code(voters.eligible().national_code, self._district.keys.sealing_public)
        return self.request(ReserveBody(sealed, DocumentKind.SMART_CARD, False), sent_at)

    def publish(self, payload: bytes) -> None:
        assert self.session.publish(request_topic(self.identity.district, self.identity.terminal), payload)

    def ask(self, signed: bytes) -> tuple[bytes, Answer]:
        """Publish the signed bytes, again every half second as a terminal does, until an answer comes
        (answers left over from earlier resends are discarded first)."""
        while not self._answers.empty():
            self._answers.get_nowait()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.publish(signed)
            try:
                payload = self._answers.get(timeout=RESEND_SECONDS)
            except queue.Empty:
                continue
            opened = open_answer(payload, self._district.keys.signing_public)
            assert isinstance(opened, Answer), f"an answer that does not verify: {opened}"
            return payload, opened
        raise AssertionError(f"{self.identity.terminal}: no answer from the center")

    def fence(self) -> None:
        """A genuine request after the others: once it is answered, the center has handled all before it
        (one worker, one topic, QoS 1 in order); nothing else may have been answered."""
        fence = self.request(VoidBody(VoidReason.OPERATOR_CANCELLED))
        _, answer = self.ask(sign_request(fence, self.key))
        assert answer.header.request_id == fence.header.request_id, f"an answer came for another request: {answer}"
        assert answer.body == VoidAnswer(VoidOutcome.VOIDED)


@pytest.fixture
def probe(district: VirtualDistrict) -> Iterator[SignedProbe]:
    made = SignedProbe(district)
    made.session.start()
    assert made.session.wait_connected(WAIT), "the probe could not reach mosquitto"
    yield made
    made.session.stop()


def _center(district: VirtualDistrict) -> CenterService:
    assert district.center is not None, "the district's center is not running"
    return district.center


def _dropped(district: VirtualDistrict) -> int:
    return sum(worker.dropped for worker in _center(district).status().workers)


def _tx_ids(district: VirtualDistrict) -> set[str]:
    registry = district.registry()
    try:
        return {row.tx_id for row in registry.reservations()}
    finally:
        registry.close()


@pytest.mark.parametrize("forgery", ["unsigned", "rogue_key", "other_terminals_key"])
def test_a_forged_request_changes_nothing_and_gets_no_answer(
    forgery: str, district: VirtualDistrict, voters: Voters, probe: SignedProbe, caplog: pytest.LogCaptureFixture
) -> None:
    other_terminal = SignedProbe(district)
    forged = probe.reserve(voters)
    signer: dict[str, OKPKey] = {"rogue_key": generate_signing_key(), "other_terminals_key": other_terminal.key}
    payload = encode_request(forged) if forgery == "unsigned" else sign_request(forged, signer[forgery])
    dropped_before = _dropped(district)
    with caplog.at_level(logging.WARNING, logger="center.service"):
        probe.publish(payload)
        probe.fence()
    assert _dropped(district) == dropped_before + 1, "the center did not refuse the forged request"
    assert forged.header.tx_id not in _tx_ids(district), "the forged request reserved a voter"
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and "bad_signature" in drops[0], drops
    assert isinstance(forged.body, ReserveBody) and forged.body.sealed_voter not in drops[0]


@pytest.mark.parametrize("age", [timedelta(minutes=-10), timedelta(minutes=10)])
def test_a_stale_request_is_refused(
    age: timedelta, district: VirtualDistrict, voters: Voters, probe: SignedProbe
) -> None:
    stale = probe.reserve(voters, datetime.now(UTC) + age)
    dropped_before = _dropped(district)
    probe.publish(sign_request(stale, probe.key))
    probe.fence()
    assert _dropped(district) == dropped_before + 1
    assert stale.header.tx_id not in _tx_ids(district)


def test_a_resend_after_the_center_restarted_gets_the_same_inquiry_code(
    district: VirtualDistrict, voters: Voters, probe: SignedProbe
) -> None:
    signed = sign_request(probe.reserve(voters), probe.key)
    first_payload, first = probe.ask(signed)
    assert isinstance(first.body, ReserveAnswer) and first.body.outcome is ReserveOutcome.ELIGIBLE
    district.stop_center()
    district.start_center()
    again_payload, again = probe.ask(signed)
    assert isinstance(again.body, ReserveAnswer) and again.body.inquiry_code == first.body.inquiry_code
    assert again_payload == first_payload, "a resend must get the stored answer, byte for byte"
    assert sum(worker.answered for worker in _center(district).status().workers) >= 1, "not the restarted center"


@pytest.fixture
def center_behind(district: VirtualDistrict, request: pytest.FixtureRequest) -> Iterator[timedelta]:
    """The district's center replaced by one whose clock is behind by the given time (the terminal is ahead)."""
    behind: timedelta = request.param
    config = CenterConfig(district.district, "center-2", district.election_day, district.database,
                          district.database.with_name("unused-signing.pem"),
                          district.database.with_name("unused-sealing.pem"), district.broker.center_address,
                          district.pki.center_workers, 1, district.pki.group)
    district.stop_center()
    skewed = CenterService(config, district.keys.signing, district.keys.sealing, lambda: utc_now() - behind,
                           enrolled=district.enrolled)
    skewed.start()
    try:
        assert skewed.wait_connected(WAIT), "the skewed center could not reach mosquitto"
        yield behind
    finally:
        skewed.stop()
        district.start_center()


@pytest.mark.parametrize("center_behind", [timedelta(minutes=3), timedelta(minutes=40)], indirect=True)
def test_a_terminal_whose_clock_is_off_says_so_and_does_not_open(
    center_behind: timedelta, district: VirtualDistrict, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal(open_polls=False)
    terminal.wait_for(st.PollsNotOpen)
    terminal.runtime.request_open()
    refused = terminal.wait_for(st.PollsNotOpen, timeout=20)
    assert isinstance(refused, st.PollsNotOpen) and isinstance(refused.notice, ClockOff)
    said = texts.render(refused.notice)
    minutes = to_persian_digits(str(center_behind.seconds // 60))
    assert f"{minutes} دقیقه" in said and "جلوتر" in said, said
    assert terminal.display.messages[-1] == said
    alarms = [json.loads(e.detail)["alarm"] for e in terminal.evidence().audit if e.kind == "alarm"]
    assert AlarmKind.CLOCK_OFF.value in alarms, "the refusal to open must be in the audit log"
    assert isinstance(terminal.state, st.PollsNotOpen)


def test_a_terminal_whose_own_clock_was_moved_does_not_open(make_terminal: TerminalFactory) -> None:
    terminal = make_terminal(open_polls=False)
    terminal.clock.advance(timedelta(minutes=4))
    terminal.wait_for(st.PollsNotOpen)
    terminal.runtime.request_open()
    refused = terminal.wait_for(st.PollsNotOpen, timeout=20)
    assert isinstance(refused, st.PollsNotOpen) and refused.notice is not None
    said = texts.render(refused.notice)
    assert "۴ دقیقه" in said and "جلوتر" in said, refused
    terminal.clock.advance(timedelta(minutes=-4))
    terminal.runtime.request_open()
    terminal.wait_for(st.Idle, timeout=20)
