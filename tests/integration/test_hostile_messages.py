"""Hostile messages on a terminal's broadcast and answer topics, through the real broker: the loop goes on."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jws

from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed, OperatorRetry
from firmware_app.runtime import broadcasts
from harness.district import VirtualDistrict
from harness.terminal import VirtualTerminal
from protocol.codec import encode_extension
from protocol.messages import Extension
from protocol.seal import EXTENSION_TYPE, sign_extension
from protocol.topics import answer_topic, broadcast_topic
from tests.integration.conftest import TerminalFactory, Voters, card_of, confirm_until_reserving

pytestmark = pytest.mark.real_peer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _odd_header_token(header: dict[str, object], payload: bytes = b"{}") -> bytes:
    """What an insider with broker credentials can send without any key: any header, a junk signature."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(payload)}.{_b64(b'x' * 64)}".encode()


HOSTILE = [
    _odd_header_token({"alg": "Ed25519", "typ": EXTENSION_TYPE, "crit": [1]}),
    _odd_header_token({"alg": "Ed25519", "typ": EXTENSION_TYPE, "crit": [{}]}),
    _odd_header_token({"alg": "Ed25519", "crit": ["b64"], "b64": False}),
    _odd_header_token({"alg": "ECDH-ES", "enc": "A256GCM", "epk": {"kty": "EC", "crv": "P-256"}}),
    b"\xff\xfe not even ascii",
    b"",
]


def _audited(terminal: VirtualTerminal, kind: str) -> list[str]:
    return [entry.detail for entry in terminal.journal.audit_entries() if entry.kind == kind]


def _extension_refused(terminal: VirtualTerminal) -> list[str]:
    """Refused at the boundary (not for us, not today) or by the flow (not a later closing within the rules)."""
    judged = [json.loads(detail) for detail in _audited(terminal, "step")]
    by_flow = [j["refusal"] for j in judged if j["event"] == "ClosingExtended" and j["refusal"] is not None]
    return _audited(terminal, "broadcast_refused") + by_flow


def _one_voter(terminal: VirtualTerminal, voters: Voters) -> None:
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.Idle)
    terminal.reader.pull()


def test_hostile_broadcasts_change_nothing_are_audited_and_the_loop_serves_the_next_voter(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    closes_at = terminal.runtime.closes_at
    with district.publisher("insider") as insider:
        for payload in HOSTILE:
            assert insider.publish(broadcast_topic(district.district), payload, wait=10)
    terminal.wait_until(lambda: len(_audited(terminal, "broadcast_refused")) >= len(HOSTILE))
    assert terminal.runtime.closes_at == closes_at
    assert not _audited(terminal, "fault"), "a hostile broadcast reached a bug"
    _one_voter(terminal, voters)
    assert len(terminal.slips()) == 1


def test_a_retained_hostile_broadcast_does_not_stop_a_terminal_at_start_up(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    with district.publisher("insider") as insider:
        assert insider.publish(broadcast_topic(district.district), HOSTILE[0], retain=True, wait=10)
    try:
        terminal = make_terminal()
        terminal.wait_until(lambda: bool(_audited(terminal, "broadcast_refused")))
        _one_voter(terminal, voters)
        assert len(terminal.slips()) == 1
    finally:
        district.clear_broadcast()


@pytest.mark.parametrize("moves", [
    pytest.param({"closes_at": timedelta(hours=9)}, id="past-the-longest-extension"),
    pytest.param({"issued_at": timedelta(hours=1)}, id="issued-in-our-future"),
    pytest.param({"issued_at": -timedelta(days=30)}, id="issued-before-the-day"),
])
def test_a_genuine_extension_with_times_out_of_bounds_is_refused(
    district: VirtualDistrict, make_terminal: TerminalFactory, moves: dict[str, timedelta]
) -> None:
    terminal = make_terminal()
    held = terminal.runtime.closes_at
    now = datetime.now(UTC)
    extension = Extension(district.district, terminal.runtime.settings.closes_at + moves.get("closes_at", timedelta(0))
                          + timedelta(minutes=30), now + moves.get("issued_at", timedelta(0)))
    with district.publisher("center-bug") as center:
        assert center.publish(broadcast_topic(district.district), sign_extension(extension, district.keys.signing),
                              wait=10)
    terminal.wait_until(lambda: bool(_extension_refused(terminal)))
    assert terminal.runtime.closes_at == held


def test_a_year_9999_extension_signed_by_the_center_is_refused_not_a_crash(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    payload = encode_extension(Extension(district.district, datetime(2099, 1, 1, tzinfo=UTC), datetime.now(UTC)))
    header = {"alg": "Ed25519", "typ": EXTENSION_TYPE, "kid": district.keys.signing.thumbprint()}
    far = jws.serialize_compact(header, payload.replace(b"2099-", b"9999-"), district.keys.signing,
                                algorithms=["Ed25519"]).encode()
    with district.publisher("center-bug") as center:
        assert center.publish(broadcast_topic(district.district), far, wait=10)
    terminal.wait_until(lambda: bool(_audited(terminal, "broadcast_refused")))
    _one_voter(terminal, voters)
    assert len(terminal.slips()) == 1


def test_hostile_answers_while_a_voter_waits_do_not_stop_the_terminal(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    district.stop_center()
    try:
        confirm_until_reserving(terminal, voters.eligible())
        with district.publisher("insider") as insider:
            for payload in HOSTILE:
                assert insider.publish(answer_topic(district.district, terminal.plan.identity.terminal), payload,
                                       wait=10)
        terminal.wait_for(st.NoAnswer)
        assert not _audited(terminal, "fault"), "a hostile answer reached a bug"
    finally:
        district.start_center()
    terminal.post(OperatorRetry())
    terminal.wait_for(st.Idle, timeout=20)
    assert len(terminal.slips()) == 1


def test_a_bug_while_handling_a_message_is_an_audited_alarm_and_the_loop_goes_on(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = make_terminal()

    def broken(*_args: object) -> str | None:
        raise TypeError("a bug in the bounds check")

    monkeypatch.setattr(broadcasts, "extension_problem", broken)
    district.broadcast_extension(terminal.runtime.closes_at + timedelta(minutes=5))
    try:
        terminal.wait_until(lambda: bool(_audited(terminal, "fault")))
        [fault] = _audited(terminal, "fault")
        assert "TypeError" in fault and "a bug in the bounds check" not in fault, fault
        assert terminal.runtime.faults == 1
        monkeypatch.undo()
        _one_voter(terminal, voters)
        assert len(terminal.slips()) == 1
    finally:
        district.clear_broadcast()
