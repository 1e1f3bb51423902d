"""The district issues permits: signed, secrets sealed to each terminal, phone codes the terminal accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from center.permits import broadcast_activation, end_permit, issue_permit
from harness.fuzz.offline import AT, ME, offline_world
from protocol.permit import (
    Activated,
    ActivationPath,
    PermitActivation,
    PermitEnd,
    PermitLedger,
    judge_broadcast_activation,
    judge_code,
    judge_permit,
)
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_permit,
    open_permit_activation,
    open_permit_end,
    open_permit_secrets,
    public_part,
)

DURING = AT + timedelta(hours=2)


def test_an_issued_permit_verifies_and_each_terminal_opens_the_same_secrets() -> None:
    world = offline_world()
    opened = open_permit(world.issued.signed, public_part(world.district_key))
    assert opened == world.issued.permit and judge_permit(opened, ME) is None
    for name, key in world.permit_keys.items():
        assert open_permit_secrets(opened, name, key) == world.issued.secrets
    assert world.issued.secrets.snapshot_key == world.snapshot_key
    assert "secrets redacted" in repr(world.issued)


def test_each_phone_code_is_read_as_three_groups_and_activates_its_number() -> None:
    world = offline_world(activations=3)
    codes = [world.issued.phone_code(n) for n in (1, 2, 3)]
    assert len(set(codes)) == 3 and all(len(code) == 11 and code.count("-") == 2 for code in codes)
    for number, code in enumerate(codes, start=1):
        assert judge_code(world.issued.permit, world.issued.secrets, code, PermitLedger(), ME, DURING) == \
            Activated(number, ActivationPath.PHONE_CODE)
    with pytest.raises(ValueError, match="activations 1 to 3"):
        world.issued.phone_code(4)


def test_two_permits_never_share_an_id_or_a_code() -> None:
    one, two = offline_world(), offline_world()
    assert one.issued.permit.permit_id != two.issued.permit.permit_id
    assert one.issued.phone_code(1) != two.issued.phone_code(1)


def test_a_broadcast_activation_and_an_end_are_signed_for_the_permit() -> None:
    world = offline_world()
    permit, key = world.issued.permit, public_part(world.district_key)
    notice = open_permit_activation(broadcast_activation(permit, 2, world.district_key, DURING), key)
    assert isinstance(notice, PermitActivation)
    assert judge_broadcast_activation(permit, notice, PermitLedger(), ME, DURING) == \
        Activated(2, ActivationPath.BROADCAST)
    end = open_permit_end(end_permit(permit, world.district_key, DURING, DURING), key)
    assert isinstance(end, PermitEnd) and end.permit_id == permit.permit_id and end.ended_at == DURING
    with pytest.raises(ValueError, match="out of range"):
        broadcast_activation(permit, 1, world.district_key, DURING, life=timedelta(hours=1))
    with pytest.raises(ValueError, match="out of range"):
        broadcast_activation(permit, 9, world.district_key, DURING)


@pytest.mark.parametrize(("changes", "message"), [
    ({"terminals": {}}, "terminals"),
    ({"not_after": AT}, "window"),
    ({"not_after": AT + timedelta(hours=21)}, "window"),
    ({"max_slips": 0}, "out of range"),
    ({"activations": 10}, "out of range"),
    ({"paths": []}, "path"),
    ({"snapshot_key": b"short"}, "32 bytes"),
])
def test_a_permit_out_of_bounds_is_never_issued(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "district": "D01", "branch": "B-0101", "terminals": {"T-0101": public_part(generate_sealing_key())},
        "not_before": AT, "not_after": AT + timedelta(hours=8), "max_slips": 100, "activations": 2,
        "paths": [ActivationPath.PHONE_CODE], "snapshot_key": bytes(32), "district_key": generate_signing_key(),
        "now": AT,
    }
    with pytest.raises(ValueError, match=message):
        issue_permit(**{**arguments, **changes})  # type: ignore[arg-type]
