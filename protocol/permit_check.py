"""Whether a signed permit can be held by this terminal: the district's signature, this terminal named, and its
secrets opening with this device's permit key. One check for the broker's intake and for provisioning."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from joserfc.jwk import OKPKey

from protocol.codec import ProblemKind, ProtocolError
from protocol.permit import Permit, PermitSecrets, TerminalIdentity, judge_permit
from protocol.seal import open_permit, open_permit_secrets


class NotHeldReason(enum.StrEnum):
    NOT_SIGNED = "not_signed"
    """The district's key did not sign it (forged, or another district's)."""
    UNREADABLE = "unreadable"
    """Signed, but not a well-formed permit."""
    FOREIGN = "foreign"
    """A well-formed permit that does not name this terminal, its branch or its district (the detail says which)."""
    NO_PERMIT_KEY = "no_permit_key"
    """This device has no permit key (provisioned before permits)."""
    SEALED_ELSEWHERE = "sealed_elsewhere"
    """Its secrets do not open with this device's permit key."""


@dataclass(frozen=True)
class PermitHeld:
    permit: Permit
    secrets: PermitSecrets


@dataclass(frozen=True)
class PermitNotHeld:
    reason: NotHeldReason
    detail: str


def check_permit_here(signed: bytes, district_key: OKPKey, me: TerminalIdentity, permit_key: OKPKey | None
                      ) -> PermitHeld | PermitNotHeld:
    """The permit verified with the district's key, judged this terminal's, and its secrets opened."""
    permit = open_permit(signed, district_key)
    if isinstance(permit, ProtocolError):
        reason = NotHeldReason.NOT_SIGNED if permit.kind is ProblemKind.BAD_SIGNATURE else NotHeldReason.UNREADABLE
        return PermitNotHeld(reason, str(permit))
    refused = judge_permit(permit, me)
    if refused is not None:
        return PermitNotHeld(NotHeldReason.FOREIGN, refused.value)
    if permit_key is None:
        return PermitNotHeld(NotHeldReason.NO_PERMIT_KEY, "this terminal has no permit key (provisioned before permits)")
    secrets = open_permit_secrets(permit, me.terminal, permit_key)
    if isinstance(secrets, ProtocolError):
        return PermitNotHeld(NotHeldReason.SEALED_ELSEWHERE, f"secrets: {secrets}")
    return PermitHeld(permit, secrets)
