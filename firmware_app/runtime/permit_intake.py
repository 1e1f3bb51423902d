"""The district's permits, activations and ends, from the broker or provisioning, as the flow events they mean."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.events import PermitActivationReceived, PermitEndReceived, PermitReceived
from firmware_app.flow.permits import HeldPermit
from firmware_app.runtime.settings import RuntimeSettings
from protocol.codec import ProtocolError
from protocol.compact import is_signed_as
from protocol.permit import PermitLedger, TerminalIdentity
from protocol.permit_check import PermitNotHeld, check_permit_here
from protocol.seal import (
    PERMIT_ACTIVATION_TYPE,
    PERMIT_END_TYPE,
    PERMIT_TYPE,
    SIGNATURE_ALG,
    open_permit_activation,
    open_permit_end,
)

log = logging.getLogger(__name__)

PermitEvent = PermitReceived | PermitActivationReceived | PermitEndReceived


@dataclass(frozen=True)
class PermitMessageRefused:
    """A permit, activation or end that does not verify, is not this terminal's, or cannot be opened here."""

    reason: str
    kind: str


def permit_kind(payload: bytes) -> str | None:
    """'permit', 'activation' or 'end' if the bytes have the shape of that signed message; None otherwise."""
    for kind, typ in (("permit", PERMIT_TYPE), ("activation", PERMIT_ACTIVATION_TYPE), ("end", PERMIT_END_TYPE)):
        if is_signed_as(payload, alg=SIGNATURE_ALG, typ=typ):
            return kind
    return None


def permit_event(payload: bytes, settings: RuntimeSettings, now: datetime) -> PermitEvent | PermitMessageRefused:
    """The message verified with the district's key (the center's signing key) and, for a permit, judged this
    terminal's and its secrets opened with the terminal's permit key. Whether an activation or an end is taken
    (window, reuse, lock-out) is the flow's to judge."""
    kind = permit_kind(payload)
    key = settings.center_signing_key
    match kind:
        case "permit":
            held = hold_permit(payload, settings)
            return held if isinstance(held, PermitMessageRefused) else PermitReceived(held, payload)
        case "activation":
            activation = open_permit_activation(payload, key)
            if isinstance(activation, ProtocolError):
                return PermitMessageRefused(str(activation), "activation")
            return PermitActivationReceived(activation, now)
        case "end":
            end = open_permit_end(payload, key)
            if isinstance(end, ProtocolError):
                return PermitMessageRefused(str(end), "end")
            return PermitEndReceived(end)
        case _:
            return PermitMessageRefused("not a permit, activation or end", "permit")


def hold_permit(signed: bytes, settings: RuntimeSettings, ledger: PermitLedger | None = None
                ) -> HeldPermit | PermitMessageRefused:
    """A signed permit verified, judged this terminal's, and its secrets opened with the terminal's permit key."""
    me = permit_identity(settings)
    checked = check_permit_here(signed, settings.center_signing_key, me, settings.permit_key)
    if isinstance(checked, PermitNotHeld):
        return PermitMessageRefused(checked.detail, "permit")
    return HeldPermit(checked.permit, checked.secrets, me, ledger if ledger is not None else PermitLedger())


def held_permits(journaled: Iterable[tuple[bytes, PermitLedger]], settings: RuntimeSettings
                 ) -> tuple[HeldPermit, ...]:
    """The permits the journal holds, each opened again with its rebuilt ledger. One that no longer opens (the
    permit key replaced since: a re-provisioned device) is left out and logged; its slips stay journaled."""
    held: list[HeldPermit] = []
    for signed, ledger in journaled:
        opened = hold_permit(signed, settings, ledger)
        if isinstance(opened, PermitMessageRefused):
            log.error("a journaled permit no longer opens: %s", opened.reason)
            continue
        held.append(opened)
    return tuple(held)


def permit_identity(settings: RuntimeSettings) -> TerminalIdentity:
    identity = settings.identity
    return TerminalIdentity(identity.terminal, identity.branch, identity.district)

