"""The screen's parts without a browser: every state's view, the request guard, sign-in and its lock-out."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.events import OperatorOverrode, OverrideReason
from firmware_app.flow.examples import STATES
from firmware_app.flow.notices import Duplicate, Say
from firmware_app.screen.actions import ACTIONS, Brings, Given, Typed, head_actions
from firmware_app.screen.guard import foreign
from firmware_app.screen.signin import LOCKOUT_S, MAX_FAILURES, Officials, Refused, SignedIn, SignInProblem
from firmware_app.screen.view import notice_view, state_view
from harness.election import counted, day_election
from protocol.messages import DocumentKind
from provisioning.pins import KdfParams, PinProblem, Role, load_pins, set_pin

FAST = KdfParams(n=2**4)
"""A cheap scrypt for tests; the file keeps the parameters each hash was made with."""


@pytest.mark.parametrize("state", STATES, ids=lambda s: type(s).__name__)
def test_every_state_has_a_view_of_plain_json_without_a_national_code(state: st.State) -> None:
    view = state_view(state)
    encoded = json.dumps(view, ensure_ascii=False)
    assert view["type"] == type(state).__name__
    assert "0012345679" not in encoded, "a national code reached the screen's snapshot"


def test_a_notice_is_its_key_its_params_and_its_persian() -> None:
    assert notice_view(Say.ISSUED)["key"] == "say.issued"
    shown = notice_view(Duplicate("B-0002", None))
    assert shown["key"] == "duplicate" and shown["params"] == {"first_branch": "B-0002", "first_at": None}
    assert "B-0002" in shown["text"]


def test_every_action_is_one_flow_event() -> None:
    given = Given(Typed("0012345679", DocumentKind.BIRTH_CERTIFICATE), OverrideReason.PHOTO_OUTDATED,
                  counted(day_election("D01"), 3), "operator+head", permit_code="1234-5678")
    made = {name: type(spec.event(datetime.now(UTC), given)).__name__ for name, spec in ACTIONS.items()}
    assert len(set(made.values())) == len(made), f"two buttons stand for one event: {made}"


def test_an_override_carries_the_reason_the_head_of_branch_chose_and_nothing_else_makes_one() -> None:
    spec = ACTIONS["override"]
    assert spec.brings is Brings.REASON
    for reason in OverrideReason:
        assert spec.event(datetime.now(UTC), Given(reason=reason)) == OperatorOverrode(reason)
    with pytest.raises(ValueError, match="reason"):
        spec.event(datetime.now(UTC), Given())
    assert set(texts.OVERRIDE_REASONS) == set(OverrideReason), "an override reason without its Persian"


def _example(kind: type[st.State]) -> st.State:
    return next(state for state in STATES if isinstance(state, kind))


def test_a_void_after_a_print_that_may_have_come_out_needs_the_head_of_branch_like_the_override() -> None:
    interrupted = _example(st.PrintInterrupted)
    decision = _example(st.RecoveryDecision)
    assert isinstance(interrupted, st.PrintInterrupted) and isinstance(decision, st.RecoveryDecision)
    print_or_void = dataclasses.replace(decision, question=st.RecoveryQuestion.PRINT_OR_VOID, reprint=False)
    came_out = dataclasses.replace(decision, question=st.RecoveryQuestion.DID_SLIP_COME_OUT, reprint=True)
    permits = ["activate_permit", "allow_offline_hit", "accept_permit_activation"]
    voids = ["resume", "reject", "override", "cancel", "void", *permits]
    always = ["resume", "override", *permits]
    cases: list[tuple[st.State, list[str]]] = [
        (dataclasses.replace(interrupted, reprint=True), voids),
        (dataclasses.replace(interrupted, reprint=False), always),
        (came_out, voids),
        (print_or_void, always),
        (dataclasses.replace(print_or_void, reprint=True), voids),
        *((state, always) for state in STATES
          if not isinstance(state, st.PrintInterrupted | st.RecoveryDecision)),
    ]
    for state, wanted in cases:
        assert head_actions(state) == wanted, f"{state}: {head_actions(state)}"


PORT = 8480
OWN = {"host": f"127.0.0.1:{PORT}", "origin": f"http://127.0.0.1:{PORT}", "content-type": "application/json"}


@pytest.mark.parametrize(("method", "headers", "reason"), [
    ("GET", {"host": f"127.0.0.1:{PORT}"}, None),
    ("GET", {"host": f"localhost:{PORT}"}, None),
    ("POST", OWN, None),
    ("GET", {"host": "evil.example"}, "foreign host"),
    ("GET", {"host": f"127.0.0.1:{PORT + 1}"}, "foreign host"),
    ("POST", {**OWN, "origin": "http://evil.example"}, "foreign origin"),
    ("POST", {**OWN, "origin": "null"}, "foreign origin"),
    ("POST", {**OWN, "sec-fetch-site": "cross-site"}, "cross-site request"),
    ("POST", {k: v for k, v in OWN.items() if k != "origin"}, "a POST without an Origin"),
    ("POST", {**OWN, "content-type": "text/plain"}, "a POST that is not JSON"),
])
def test_only_the_kiosk_page_itself_gets_through(method: str, headers: dict[str, str], reason: str | None) -> None:
    assert foreign(method, headers, PORT) == reason


def officials(tmp_path: Path, lock_after_s: float = 300.0) -> tuple[Officials, list[float]]:
    pins = tmp_path / "pins.json"
    assert set_pin(pins, Role.OPERATOR, "246810", FAST) is None
    assert set_pin(pins, Role.HEAD, "135790", FAST) is None
    now = [1000.0]
    return Officials(load_pins(pins), lock_after_s, lambda: now[0]), now


def test_pins_are_kept_only_as_salted_hashes(tmp_path: Path) -> None:
    pins = tmp_path / "pins.json"
    set_pin(pins, Role.OPERATOR, "246810", FAST)
    set_pin(pins, Role.HEAD, "246810", FAST)
    text = pins.read_text()
    assert "246810" not in text and pins.stat().st_mode & 0o077 == 0
    stored = load_pins(pins)
    assert stored[Role.OPERATOR].salt != stored[Role.HEAD].salt
    assert stored[Role.OPERATOR].digest != stored[Role.HEAD].digest
    assert set_pin(pins, Role.OPERATOR, "12ab56", FAST) is PinProblem.NOT_DIGITS
    assert set_pin(pins, Role.OPERATOR, "123", FAST) is PinProblem.WRONG_LENGTH


def test_five_wrong_pins_lock_the_role_out_for_a_while(tmp_path: Path) -> None:
    signin, now = officials(tmp_path)
    for failures in range(1, MAX_FAILURES):
        assert signin.sign_in(Role.OPERATOR, "000000") == Refused(SignInProblem.WRONG_PIN, failures)
    locked = signin.sign_in(Role.OPERATOR, "000000")
    assert isinstance(locked, Refused) and locked.problem is SignInProblem.LOCKED_OUT
    still = signin.sign_in(Role.OPERATOR, "246810")
    assert isinstance(still, Refused) and still.problem is SignInProblem.LOCKED_OUT, "the right PIN while locked"
    assert isinstance(signin.sign_in(Role.HEAD, "135790"), SignedIn), "the lock-out is per official"
    now[0] += LOCKOUT_S + 1
    assert isinstance(signin.sign_in(Role.OPERATOR, "246810"), SignedIn)


def test_a_session_ends_with_inactivity_a_new_sign_in_or_signing_out(tmp_path: Path) -> None:
    signin, now = officials(tmp_path, lock_after_s=60)
    first = signin.sign_in(Role.OPERATOR, "246810")
    assert isinstance(first, SignedIn)
    now[0] += 50
    assert signin.session(first.token, action=True) is Role.OPERATOR
    now[0] += 50
    assert signin.session(first.token) is Role.OPERATOR, "an action restarts the idle time"
    now[0] += 61
    assert signin.session(first.token) is None, "the screen locks after inactivity"
    second = signin.sign_in(Role.OPERATOR, "246810")
    third = signin.sign_in(Role.OPERATOR, "246810")
    assert isinstance(second, SignedIn) and isinstance(third, SignedIn)
    assert signin.session(second.token) is None, "a new sign-in ends the previous session"
    assert signin.sign_out(third.token) is Role.OPERATOR and signin.session(third.token) is None
