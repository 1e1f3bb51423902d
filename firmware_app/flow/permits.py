"""The offline permits a day holds: each verified permit, its opened secrets and its ledger, and which one is in use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from protocol.permit import Activated, Permit, PermitActivation, PermitLedger, PermitSecrets, TerminalIdentity


@dataclass(frozen=True)
class HeldPermit:
    """A permit the terminal holds: verified with the district's key and judged this terminal's when it came,
    its secrets opened with the terminal's permit key, and what the journal holds of it (`ledger`)."""

    permit: Permit
    secrets: PermitSecrets = field(repr=False)
    me: TerminalIdentity
    ledger: PermitLedger = field(default_factory=PermitLedger)
    offered: PermitActivation | None = None
    """The district's broadcast activation, judged valid when it came, waiting for the head of branch to take it
    (not journaled: the broker delivers the retained activation again after a restart)."""

    @property
    def permit_id(self) -> str:
        return self.permit.permit_id

    @property
    def slot(self) -> int:
        slot = self.permit.slot_of(self.me.terminal)
        if slot is None:
            raise ValueError("a held permit names its terminal")
        return slot

    def activated(self, activation: Activated) -> HeldPermit:
        ledger = self.ledger
        return dataclasses.replace(self, offered=None, ledger=dataclasses.replace(
            ledger, used_activations=ledger.used_activations | {activation.activation}, active=activation.activation))

    def offer(self, activation: PermitActivation) -> HeldPermit:
        return dataclasses.replace(self, offered=activation)

    def stood_down(self) -> HeldPermit:
        """Back to the live check: the activation in use is spent; another needs a new code or broadcast."""
        return dataclasses.replace(self, ledger=dataclasses.replace(self.ledger, active=None))

    def code_failed(self) -> HeldPermit:
        return dataclasses.replace(self, ledger=dataclasses.replace(self.ledger,
                                                                    failed_codes=self.ledger.failed_codes + 1))

    def slip_issued(self) -> HeldPermit:
        return dataclasses.replace(self, ledger=dataclasses.replace(self.ledger,
                                                                    slips_issued=self.ledger.slips_issued + 1))

    def ended(self, at: datetime) -> HeldPermit:
        """The first end stands: a later one cannot extend the permit."""
        held = self.ledger.ended_at
        return dataclasses.replace(self, ledger=dataclasses.replace(
            self.ledger, ended_at=at if held is None else min(held, at)))


def active_permit(permits: tuple[HeldPermit, ...]) -> HeldPermit | None:
    """The permit the terminal runs offline under now, if any (at most one is active at a time)."""
    return next((held for held in permits if held.ledger.active is not None), None)


def offered_permit(permits: tuple[HeldPermit, ...]) -> HeldPermit | None:
    """A permit whose broadcast activation waits for the head of branch, if any."""
    return next((held for held in permits if held.offered is not None), None)


def held_permit(permits: tuple[HeldPermit, ...], permit_id: str) -> HeldPermit | None:
    return next((held for held in permits if held.permit_id == permit_id), None)


def replaced(permits: tuple[HeldPermit, ...], changed: HeldPermit) -> tuple[HeldPermit, ...]:
    """The permits with `changed` in place of the one of its id."""
    return tuple(changed if held.permit_id == changed.permit_id else held for held in permits)
