"""The district's permit messages as the loop takes them: verified with the district's key, judged this terminal's,
their secrets opened with the terminal's own permit key; anything else is refused with its reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from center.permits import IssuedPermit, broadcast_activation, end_permit, issue_permit
from firmware_app.flow.events import (
    ClosingExtended,
    PermitActivationReceived,
    PermitEndReceived,
    PermitReceived,
)
from firmware_app.runtime.broadcasts import BroadcastRefused, broadcast_event
from firmware_app.runtime.permit_intake import PermitMessageRefused, held_permits, permit_event, permit_kind
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from protocol.messages import Extension
from protocol.permit import ActivationPath, PermitLedger
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, sign_extension

OPENS = datetime(2026, 6, 12, 3, 30, tzinfo=UTC)
NOW = OPENS + timedelta(hours=5)
DISTRICT_KEY = generate_signing_key()
PERMIT_KEY = generate_sealing_key()
SECOND_PERMIT_KEY = generate_sealing_key()
ME = TerminalIdentity(terminal="T-0101", branch="B-0101", district="D01")
SETTINGS = RuntimeSettings(
    ME, False, public_part(DISTRICT_KEY), public_part(generate_sealing_key()), generate_signing_key(), b"k" * 32,
    "0", "0" * 64, "0" * 64, OPENS, OPENS + timedelta(hours=11), {}, permit_key=PERMIT_KEY,
)


def _issued(*, branch: str = "B-0101", terminals: dict[str, object] | None = None,
            key: object = DISTRICT_KEY) -> IssuedPermit:
    named = terminals if terminals is not None else {"T-0101": public_part(PERMIT_KEY),
                                                     "T-0102": public_part(SECOND_PERMIT_KEY)}
    return issue_permit(district="D01", branch=branch, terminals=named,  # type: ignore[arg-type]
                        not_before=NOW, not_after=NOW + timedelta(hours=3), max_slips=40, activations=2,
                        paths=list(ActivationPath), snapshot_key=bytes(range(32)), district_key=key,  # type: ignore[arg-type]
                        now=NOW - timedelta(days=1))


def test_a_permit_for_this_terminal_is_held_with_its_secrets_opened() -> None:
    issued = _issued()
    assert permit_kind(issued.signed) == "permit"
    event = permit_event(issued.signed, SETTINGS, NOW)
    assert isinstance(event, PermitReceived), event
    assert event.signed == issued.signed and event.held.permit == issued.permit
    assert event.held.secrets == issued.secrets and event.held.ledger == PermitLedger()
    assert (event.held.me.terminal, event.held.me.branch, event.held.me.district) == ("T-0101", "B-0101", "D01")


@pytest.mark.parametrize(("case", "reason"), [
    ("forged", "signature"), ("other branch", "foreign_branch"), ("not named", "foreign_terminal"),
    ("sealed to another key", "secrets"),
])
def test_a_permit_that_is_not_this_terminals_or_not_the_districts_is_refused(case: str, reason: str) -> None:
    issued = {
        "forged": lambda: _issued(key=generate_signing_key()),
        "other branch": lambda: _issued(branch="B-0999"),
        "not named": lambda: _issued(terminals={"T-0102": public_part(SECOND_PERMIT_KEY)}),
        "sealed to another key": lambda: _issued(terminals={"T-0101": public_part(generate_sealing_key())}),
    }[case]()
    refused = permit_event(issued.signed, SETTINGS, NOW)
    assert isinstance(refused, PermitMessageRefused) and refused.kind == "permit", refused
    assert reason in refused.reason.lower(), refused


def test_a_terminal_without_a_permit_key_holds_no_permit() -> None:
    refused = permit_event(_issued().signed, dataclasses.replace(SETTINGS, permit_key=None), NOW)
    assert isinstance(refused, PermitMessageRefused) and "no permit key" in refused.reason


def test_the_districts_activation_and_end_become_their_events_and_forgeries_are_refused() -> None:
    permit = _issued().permit
    activation = broadcast_activation(permit, 1, DISTRICT_KEY, NOW)
    event = permit_event(activation, SETTINGS, NOW)
    assert isinstance(event, PermitActivationReceived) and event.at == NOW
    assert (event.activation.permit_id, event.activation.activation) == (permit.permit_id, 1)
    end = end_permit(permit, DISTRICT_KEY, NOW + timedelta(hours=1), NOW)
    ended = permit_event(end, SETTINGS, NOW)
    assert isinstance(ended, PermitEndReceived) and ended.end.ended_at == NOW + timedelta(hours=1)
    for kind, forged in (("activation", broadcast_activation(permit, 1, generate_signing_key(), NOW)),
                         ("end", end_permit(permit, generate_signing_key(), NOW, NOW))):
        refused = permit_event(forged, SETTINGS, NOW)
        assert isinstance(refused, PermitMessageRefused) and refused.kind == kind, refused


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe", b"not.a.jws", b"a" * 5000, b"e30.e30.e30"])
def test_bytes_that_are_no_permit_message_are_told_apart_and_refused(payload: bytes) -> None:
    assert permit_kind(payload) is None
    assert isinstance(permit_event(payload, SETTINGS, NOW), PermitMessageRefused)


def test_a_broadcast_goes_to_the_permits_when_it_is_one_and_to_the_extension_otherwise() -> None:
    issued = _issued()
    assert isinstance(broadcast_event(issued.signed, SETTINGS, NOW), PermitReceived)
    refused = broadcast_event(_issued(key=generate_signing_key()).signed, SETTINGS, NOW)
    assert isinstance(refused, BroadcastRefused) and refused.kind == "permit"
    extension = sign_extension(Extension("D01", SETTINGS.closes_at + timedelta(hours=1), NOW), DISTRICT_KEY)
    assert isinstance(broadcast_event(extension, SETTINGS, NOW), ClosingExtended)


def test_journaled_permits_open_again_with_their_ledgers_and_one_that_no_longer_opens_is_left_out() -> None:
    first, second = _issued(), _issued()
    ledger = PermitLedger(frozenset({1}), 0, 3, None, 1)
    held = held_permits([(first.signed, ledger), (second.signed, PermitLedger())], SETTINGS)
    assert [h.permit_id for h in held] == [first.permit.permit_id, second.permit.permit_id]
    assert held[0].ledger == ledger
    replaced = dataclasses.replace(SETTINGS, permit_key=generate_sealing_key())
    assert held_permits([(first.signed, ledger)], replaced) == ()
