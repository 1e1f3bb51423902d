"""The one check of a signed permit before a terminal holds it (the broker's intake and provisioning both use it):
each reason it is not held, and the secrets it opens when it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from center.permits import IssuedPermit, issue_permit
from protocol.messages import Extension
from protocol.permit import ActivationPath, TerminalIdentity
from protocol.permit_check import NotHeldReason, PermitHeld, PermitNotHeld, check_permit_here
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, sign_extension

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
DISTRICT_KEY = generate_signing_key()
PERMIT_KEY = generate_sealing_key()
ME = TerminalIdentity("T-0101", "B-0101", "D01")


def _issued(*, branch: str = "B-0101", sealed_to: object = None, key: object = DISTRICT_KEY) -> IssuedPermit:
    return issue_permit(district="D01", branch=branch, terminals={"T-0101": sealed_to or public_part(PERMIT_KEY)},  # type: ignore[dict-item]
                        not_before=NOW, not_after=NOW + timedelta(hours=2), max_slips=10, activations=1,
                        paths=list(ActivationPath), snapshot_key=bytes(32), district_key=key,  # type: ignore[arg-type]
                        now=NOW)


def test_a_permit_of_the_district_for_this_terminal_is_held_with_its_secrets() -> None:
    issued = _issued()
    held = check_permit_here(issued.signed, public_part(DISTRICT_KEY), ME, PERMIT_KEY)
    assert held == PermitHeld(issued.permit, issued.secrets)


@pytest.mark.parametrize(("signed", "me", "permit_key", "reason"), [
    (lambda: _issued(key=generate_signing_key()).signed, ME, PERMIT_KEY, NotHeldReason.NOT_SIGNED),
    (lambda: sign_extension(Extension("D01", NOW, NOW), DISTRICT_KEY), ME, PERMIT_KEY, NotHeldReason.NOT_SIGNED),
    (lambda: _issued(branch="B-0999").signed, ME, PERMIT_KEY, NotHeldReason.FOREIGN),
    (lambda: _issued().signed, TerminalIdentity("T-0102", "B-0101", "D01"), PERMIT_KEY, NotHeldReason.FOREIGN),
    (lambda: _issued().signed, ME, None, NotHeldReason.NO_PERMIT_KEY),
    (lambda: _issued(sealed_to=public_part(generate_sealing_key())).signed, ME, PERMIT_KEY,
     NotHeldReason.SEALED_ELSEWHERE),
    (lambda: b"not a permit at all", ME, PERMIT_KEY, NotHeldReason.NOT_SIGNED),
])
def test_each_permit_a_terminal_cannot_hold_is_refused_with_its_reason(
        signed: object, me: TerminalIdentity, permit_key: object, reason: NotHeldReason) -> None:
    refused = check_permit_here(signed(), public_part(DISTRICT_KEY), me, permit_key)  # type: ignore[operator, arg-type]
    assert isinstance(refused, PermitNotHeld) and refused.reason is reason, refused
    assert refused.detail
