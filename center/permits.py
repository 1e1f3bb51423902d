"""The district's side of offline-operation permits: issuing a permit, its phone codes, broadcast activations, ends."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import OKPKey

from protocol.inquiry_code import group_inquiry_code
from protocol.permit import (
    MAX_ACTIVATIONS,
    MAX_BROADCAST_LIFE,
    MAX_OFFLINE_SLIPS,
    MAX_PERMIT_TERMINALS,
    MAX_WINDOW,
    SECRET_BYTES,
    ActivationPath,
    Permit,
    PermitActivation,
    PermitEnd,
    PermitSecrets,
    SealedPermitSecrets,
    activation_code,
)
from protocol.seal import seal_permit_secrets, sign_permit, sign_permit_activation, sign_permit_end


@dataclass(frozen=True)
class IssuedPermit:
    """A permit as the district keeps it: what went to the terminals, and the secrets only the district keeps
    besides them (the phone codes are derived from the activation key, never stored)."""

    permit: Permit
    signed: bytes
    secrets: PermitSecrets

    def __repr__(self) -> str:
        return f"IssuedPermit({self.permit.permit_id}, <secrets redacted>)"

    def phone_code(self, activation: int) -> str:
        """Activation `activation`'s code as the district reads it out: three groups of three digits."""
        if not 1 <= activation <= self.permit.activations:
            raise ValueError(f"the permit has activations 1 to {self.permit.activations}")
        return group_inquiry_code(activation_code(self.secrets.activation_key, self.permit.permit_id, activation))


def issue_permit(*, district: str, branch: str, terminals: Mapping[str, OKPKey], not_before: datetime,
                 not_after: datetime, max_slips: int, activations: int, paths: Sequence[ActivationPath],
                 snapshot_key: bytes, district_key: OKPKey, now: datetime) -> IssuedPermit:
    """A new permit for `terminals` (name → its public X25519 permit key) of one branch, with a fresh random id and
    activation key, its secrets sealed to each terminal, signed with the district's key."""
    if not 1 <= len(terminals) <= MAX_PERMIT_TERMINALS:
        raise ValueError(f"a permit names 1 to {MAX_PERMIT_TERMINALS} terminals")
    if not not_before < not_after <= not_before + MAX_WINDOW:
        raise ValueError(f"the window must be open and at most {MAX_WINDOW}")
    if not 1 <= max_slips <= MAX_OFFLINE_SLIPS or not 1 <= activations <= MAX_ACTIVATIONS:
        raise ValueError("max_slips or activations out of range")
    if not paths or len(set(paths)) != len(paths):
        raise ValueError("name each activation path once")
    if len(snapshot_key) != SECRET_BYTES:
        raise ValueError("the snapshot key is 32 bytes")
    keys = PermitSecrets(secrets.token_bytes(SECRET_BYTES), snapshot_key)
    sealed = tuple(SealedPermitSecrets(name, seal_permit_secrets(keys, key)) for name, key in terminals.items())
    permit = Permit(secrets.token_hex(16), district, branch, tuple(terminals), not_before, not_after, max_slips,
                    activations, tuple(paths), sealed, now)
    return IssuedPermit(permit, sign_permit(permit, district_key), keys)


def broadcast_activation(permit: Permit, activation: int, district_key: OKPKey, now: datetime,
                         life: timedelta = timedelta(minutes=15)) -> bytes:
    """Activation `activation` as a signed broadcast valid for `life` (at most MAX_BROADCAST_LIFE)."""
    if not 1 <= activation <= permit.activations or not timedelta(0) < life <= MAX_BROADCAST_LIFE:
        raise ValueError("activation or life out of range")
    notice = PermitActivation(permit.permit_id, permit.district, permit.branch, activation, now, now + life)
    return sign_permit_activation(notice, district_key)


def end_permit(permit: Permit, district_key: OKPKey, ended_at: datetime, now: datetime) -> bytes:
    """The signed end of a permit: no offline slip under it from `ended_at` on."""
    return sign_permit_end(PermitEnd(permit.permit_id, permit.district, permit.branch, ended_at, now), district_key)
