"""Offline-operation permits: signed and parsed strictly, judged against the terminal, the time and what it used."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import verhoeff

from harness.fuzz.offline import AT, ME, OfflineWorld, offline_world
from protocol.codec import ProblemKind, ProtocolError, decode_permit, encode_permit
from protocol.messages import Extension
from protocol.national_code import to_persian_digits
from protocol.permit import (
    MAX_CODE_ATTEMPTS,
    Activated,
    ActivationPath,
    Permit,
    PermitActivation,
    PermitEnd,
    PermitLedger,
    PermitRefusal,
    TerminalIdentity,
    activation_code,
    judge_broadcast_activation,
    judge_code,
    judge_end,
    judge_offline_slip,
    judge_permit,
    judge_window,
)
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_permit,
    open_permit_activation,
    open_permit_end,
    open_permit_secrets,
    public_part,
    sign_extension,
    sign_permit,
    sign_permit_activation,
    sign_permit_end,
)

DURING = AT + timedelta(hours=1)


@pytest.fixture(scope="module")
def world() -> OfflineWorld:
    return offline_world()


def _kind(found: object) -> ProblemKind:
    assert isinstance(found, ProtocolError), f"accepted: {found!r}"
    return found.kind


def test_a_permit_round_trips_and_opens_only_with_the_districts_key(world: OfflineWorld) -> None:
    permit = world.issued.permit
    assert open_permit(world.issued.signed, public_part(world.district_key)) == permit
    assert decode_permit(encode_permit(permit)) == permit
    assert _kind(open_permit(world.issued.signed, public_part(generate_signing_key()))) is ProblemKind.BAD_SIGNATURE


def test_other_signed_messages_never_pass_for_a_permit(world: OfflineWorld) -> None:
    key = world.district_key
    extension = sign_extension(Extension("D01", DURING, AT), key)
    end = sign_permit_end(PermitEnd(world.issued.permit.permit_id, "D01", "B-0101", DURING, AT), key)
    for token in (extension, end):
        assert _kind(open_permit(token, public_part(key))) is ProblemKind.BAD_SIGNATURE
    assert _kind(open_permit_activation(end, public_part(key))) is ProblemKind.BAD_SIGNATURE


@pytest.mark.parametrize(("edit", "kind"), [
    ({"max_slips": 0}, ProblemKind.BAD_VALUE),
    ({"max_slips": 10_000}, ProblemKind.BAD_VALUE),
    ({"activations": 10}, ProblemKind.BAD_VALUE),
    ({"terminals": [f"T-{n}" for n in range(17)]}, ProblemKind.BAD_VALUE),
    ({"terminals": []}, ProblemKind.BAD_VALUE),
    ({"terminals": ["T 0101"]}, ProblemKind.BAD_VALUE),
    ({"paths": ["by_fax"]}, ProblemKind.BAD_VALUE),
    ({"permit_id": "A" * 32}, ProblemKind.BAD_VALUE),
    ({"not_after": "2026-11-29T18:00:00Z"}, ProblemKind.BAD_VALUE),
    ({"max_slips": 5.0}, ProblemKind.WRONG_TYPE),
    ({"unlimited": True}, ProblemKind.EXTRA_FIELD),
])
def test_permit_fields_off_in_type_or_bound_are_refused(world: OfflineWorld, edit: dict[str, object],
                                                        kind: ProblemKind) -> None:
    obj = {**json.loads(encode_permit(world.issued.permit)), **edit}
    assert _kind(decode_permit(json.dumps(obj).encode())) is kind


@pytest.mark.parametrize(("me", "refusal"), [
    (TerminalIdentity("T-0101", "B-0101", "D02"), PermitRefusal.FOREIGN_DISTRICT),
    (TerminalIdentity("T-0101", "B-0102", "D01"), PermitRefusal.FOREIGN_BRANCH),
    (TerminalIdentity("T-0199", "B-0101", "D01"), PermitRefusal.FOREIGN_TERMINAL),
])
def test_a_foreign_permit_is_refused(world: OfflineWorld, me: TerminalIdentity, refusal: PermitRefusal) -> None:
    assert judge_permit(world.issued.permit, me) is refusal
    assert judge_code(world.issued.permit, world.issued.secrets, world.issued.phone_code(1), PermitLedger(), me,
                      DURING) is refusal


@pytest.mark.parametrize("edit", [
    {"not_after": AT + timedelta(hours=21)},
    {"not_after": AT},
    {"terminals": ("T-0101", "T-0101")},
    {"paths": (ActivationPath.BROADCAST, ActivationPath.BROADCAST)},
])
def test_a_malformed_permit_is_refused_even_when_signed(world: OfflineWorld, edit: dict[str, object]) -> None:
    permit = dataclasses.replace(world.issued.permit, **edit)  # type: ignore[arg-type]
    opened = open_permit(sign_permit(permit, world.district_key), public_part(world.district_key))
    assert isinstance(opened, Permit)
    assert judge_permit(opened, ME) is PermitRefusal.MALFORMED


def test_the_window_and_the_end_bound_the_permit(world: OfflineWorld) -> None:
    permit = world.issued.permit
    assert judge_window(permit, PermitLedger(), AT - timedelta(seconds=1)) is PermitRefusal.NOT_YET_VALID
    assert judge_window(permit, PermitLedger(), permit.not_after) is PermitRefusal.EXPIRED
    assert judge_window(permit, PermitLedger(), DURING) is None
    assert judge_window(permit, PermitLedger(ended_at=DURING), DURING) is PermitRefusal.ENDED


def test_a_phone_code_activates_once_and_the_next_code_activates_next(world: OfflineWorld) -> None:
    permit, secrets = world.issued.permit, world.issued.secrets
    first = world.issued.phone_code(1)
    assert judge_code(permit, secrets, first, PermitLedger(), ME, DURING) == Activated(1, ActivationPath.PHONE_CODE)
    used = PermitLedger(used_activations=frozenset({1}))
    assert judge_code(permit, secrets, first, used, ME, DURING) is PermitRefusal.REUSED_CODE
    assert judge_code(permit, secrets, world.issued.phone_code(2), used, ME, DURING) == \
        Activated(2, ActivationPath.PHONE_CODE)


def test_a_code_typed_in_persian_digits_or_without_groups_is_the_same_code(world: OfflineWorld) -> None:
    grouped = world.issued.phone_code(1)
    for typed in (grouped.replace("-", ""), to_persian_digits(grouped), f"  {grouped.replace('-', ' ')} "):
        assert isinstance(judge_code(world.issued.permit, world.issued.secrets, typed, PermitLedger(), ME, DURING),
                          Activated)


def test_a_typo_is_not_a_guess_but_a_wrong_code_counts_to_the_lock_out(world: OfflineWorld) -> None:
    permit, secrets, code = world.issued.permit, world.issued.secrets, world.issued.phone_code(1).replace("-", "")
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert judge_code(permit, secrets, typo, PermitLedger(), ME, DURING) is PermitRefusal.NOT_A_CODE
    wrong = _valid_code_other_than(world, code)
    assert judge_code(permit, secrets, wrong, PermitLedger(), ME, DURING) is PermitRefusal.BAD_CODE
    locked = PermitLedger(failed_codes=MAX_CODE_ATTEMPTS)
    assert judge_code(permit, secrets, code, locked, ME, DURING) is PermitRefusal.LOCKED_OUT


def _valid_code_other_than(world: OfflineWorld, code: str) -> str:
    body = f"{(int(code[:8]) + 1) % 10**8:08d}"
    assert body + verhoeff.calc_check_digit(body) not in {
        activation_code(world.issued.secrets.activation_key, world.issued.permit.permit_id, n) for n in (1, 2, 3)}
    return body + verhoeff.calc_check_digit(body)


def test_a_code_outside_the_window_or_by_a_path_not_allowed_is_refused(world: OfflineWorld) -> None:
    permit, secrets, code = world.issued.permit, world.issued.secrets, world.issued.phone_code(1)
    assert judge_code(permit, secrets, code, PermitLedger(), ME, AT - timedelta(minutes=1)) \
        is PermitRefusal.NOT_YET_VALID
    assert judge_code(permit, secrets, code, PermitLedger(), ME, permit.not_after) is PermitRefusal.EXPIRED
    broadcast_only = dataclasses.replace(permit, paths=(ActivationPath.BROADCAST,))
    assert judge_code(broadcast_only, secrets, code, PermitLedger(), ME, DURING) is PermitRefusal.PATH_NOT_ALLOWED


def test_the_code_of_another_permit_is_a_bad_code(world: OfflineWorld) -> None:
    other = offline_world()
    assert judge_code(world.issued.permit, world.issued.secrets, other.issued.phone_code(1), PermitLedger(), ME,
                      DURING) is PermitRefusal.BAD_CODE


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_no_nine_digit_code_but_the_permits_own_activates_it(body: int) -> None:
    world = _WORLD
    digits = f"{body:08d}"
    code = digits + verhoeff.calc_check_digit(digits)
    own = {activation_code(world.issued.secrets.activation_key, world.issued.permit.permit_id, n): n
           for n in range(1, world.issued.permit.activations + 1)}
    found = judge_code(world.issued.permit, world.issued.secrets, code, PermitLedger(), ME, DURING)
    assert found == (Activated(own[code], ActivationPath.PHONE_CODE) if code in own else PermitRefusal.BAD_CODE)


_WORLD = offline_world()


def _activation(world: OfflineWorld, number: int = 1, issued: timedelta = timedelta(0),
                life: timedelta = timedelta(minutes=15), permit_id: str | None = None) -> PermitActivation:
    signed = sign_permit_activation(PermitActivation(permit_id or world.issued.permit.permit_id, "D01", "B-0101",
                                                     number, DURING + issued, DURING + issued + life),
                                    world.district_key)
    opened = open_permit_activation(signed, public_part(world.district_key))
    assert isinstance(opened, PermitActivation), opened
    return opened


@pytest.mark.parametrize(("activation", "ledger", "now", "refusal"), [
    (dict(), PermitLedger(), DURING, None),
    (dict(), PermitLedger(used_activations=frozenset({1})), DURING, PermitRefusal.REUSED_CODE),
    (dict(), PermitLedger(), DURING + timedelta(minutes=15), PermitRefusal.STALE_ACTIVATION),
    (dict(issued=timedelta(minutes=10)), PermitLedger(), DURING, PermitRefusal.STALE_ACTIVATION),
    (dict(life=timedelta(hours=2)), PermitLedger(), DURING, PermitRefusal.MALFORMED),
    (dict(number=4), PermitLedger(), DURING, PermitRefusal.MALFORMED),
    (dict(permit_id="f" * 32), PermitLedger(), DURING, PermitRefusal.OTHER_PERMIT),
    (dict(), PermitLedger(ended_at=DURING), DURING, PermitRefusal.ENDED),
    (dict(), PermitLedger(slips_issued=3), DURING, PermitRefusal.OVER_LIMIT),
])
def test_a_broadcast_activation_is_judged_like_a_code(world: OfflineWorld, activation: dict[str, object],
                                                      ledger: PermitLedger, now: object,
                                                      refusal: PermitRefusal | None) -> None:
    notice = _activation(world, **activation)  # type: ignore[arg-type]
    found = judge_broadcast_activation(world.issued.permit, notice, ledger, ME, now)  # type: ignore[arg-type]
    assert found == (Activated(notice.activation, ActivationPath.BROADCAST) if refusal is None else refusal)


def test_an_end_names_its_permit_and_then_no_offline_slip_is_issued(world: OfflineWorld) -> None:
    permit = world.issued.permit
    signed = sign_permit_end(PermitEnd(permit.permit_id, "D01", "B-0101", DURING, AT), world.district_key)
    end = open_permit_end(signed, public_part(world.district_key))
    assert isinstance(end, PermitEnd)
    assert judge_end(permit, end) is None
    assert judge_end(permit, dataclasses.replace(end, permit_id="0" * 32)) is PermitRefusal.OTHER_PERMIT
    assert judge_end(permit, dataclasses.replace(end, branch="B-0102")) is PermitRefusal.MALFORMED
    active = PermitLedger(used_activations=frozenset({1}), active=1)
    assert judge_offline_slip(permit, active, ME, DURING) is None
    assert judge_offline_slip(permit, dataclasses.replace(active, ended_at=end.ended_at), ME, DURING) \
        is PermitRefusal.ENDED


@pytest.mark.parametrize(("ledger", "refusal"), [
    (PermitLedger(), PermitRefusal.NOT_ACTIVATED),
    (PermitLedger(active=2, used_activations=frozenset({1})), PermitRefusal.NOT_ACTIVATED),
    (PermitLedger(active=1, used_activations=frozenset({1}), slips_issued=3), PermitRefusal.OVER_LIMIT),
    (PermitLedger(active=1, used_activations=frozenset({1}), slips_issued=2), None),
])
def test_offline_slips_need_an_activation_and_stop_at_the_limit(world: OfflineWorld, ledger: PermitLedger,
                                                                 refusal: PermitRefusal | None) -> None:
    assert judge_offline_slip(world.issued.permit, ledger, ME, DURING) is refusal


def test_the_secrets_open_only_for_their_terminal_and_key(world: OfflineWorld) -> None:
    permit = world.issued.permit
    assert open_permit_secrets(permit, "T-0101", world.permit_keys["T-0101"]) == world.issued.secrets
    assert open_permit_secrets(permit, "T-0102", world.permit_keys["T-0102"]) == world.issued.secrets
    assert _kind(open_permit_secrets(permit, "T-0101", world.permit_keys["T-0102"])) is ProblemKind.NOT_SEALED
    assert _kind(open_permit_secrets(permit, "T-0101", generate_sealing_key())) is ProblemKind.NOT_SEALED
    assert _kind(open_permit_secrets(permit, "T-0199", world.permit_keys["T-0101"])) is ProblemKind.MISSING_FIELD
    assert "redacted" in repr(world.issued.secrets)
