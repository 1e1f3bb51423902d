"""Reconciliation of OFFLINE slips at the center, as pure rules: issued, or a double vote recorded, never dropped.

A terminal replays each offline issue record (protocol.offline_code.OfflineIssue) when the center answers again.
The center keys them by (permit id, offline code) and reserves and commits the voter under `offline_tx_id`, so a
replay is the same registry transaction. `replay_of` answers a record seen before (the same signed bytes: the
same record again; other bytes under the same key: a conflict, kept beside the first, which is never replaced);
`reconcile` turns the registry's answer for a new record into what is kept; `permit_faults` lists where a record
strays from its permit (kept as flags: the slip was issued and its voter must stay taken all the same).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from protocol.messages import IneligibleReason
from protocol.offline_code import OfflineIssue, offline_code_holds
from protocol.permit import Permit, PermitSecrets

_TX_LABEL = b"vk/v1 offline tx\x00"


class ReconcileOutcome(enum.StrEnum):
    ISSUED = "issued"
    DOUBLE_VOTE = "double_vote"
    INELIGIBLE = "ineligible"
    CONFLICT = "conflict"
    """Another record under the same permit and offline code: forged, or a terminal bug; kept for the district."""


class PermitFault(enum.StrEnum):
    UNKNOWN_PERMIT = "unknown_permit"
    FOREIGN_DISTRICT = "foreign_district"
    FOREIGN_BRANCH = "foreign_branch"
    FOREIGN_TERMINAL = "foreign_terminal"
    BAD_ACTIVATION = "bad_activation"
    BEFORE_WINDOW = "before_window"
    AFTER_WINDOW = "after_window"
    AFTER_END = "after_end"
    OVER_LIMIT = "over_limit"
    FORGED_CODE = "forged_code"


@dataclass(frozen=True)
class OtherSlip:
    """The slip that already held the voter: an online one (inquiry code) or an offline one (permit and code)."""

    district: str
    branch: str
    terminal: str
    at: datetime
    committed: bool
    inquiry_code: str | None = None
    permit_id: str | None = None
    offline_code: str | None = None


@dataclass(frozen=True)
class VoterFree:
    """The registry reserved and committed the voter under this record's transaction (now or at an earlier try)."""


@dataclass(frozen=True)
class VoterHeldElsewhere:
    other: OtherSlip


@dataclass(frozen=True)
class VoterIneligible:
    reason: IneligibleReason


RegistryAnswer = VoterFree | VoterHeldElsewhere | VoterIneligible


@dataclass(frozen=True)
class Replayed:
    """A verified offline issue record as the center received it: `voter` is the registry's keyed hash of the
    unsealed national code, `digest` the SHA-256 of the signed record's bytes."""

    issue: OfflineIssue
    voter: str
    digest: str


@dataclass(frozen=True)
class ReconcileRecord:
    """What the district keeps for one offline slip; a double vote names both slips, and the permit."""

    outcome: ReconcileOutcome
    permit_id: str
    offline_code: str
    district: str
    branch: str
    terminal: str
    issued_at: datetime
    voter: str
    digest: str
    faults: tuple[PermitFault, ...] = ()
    other: OtherSlip | None = None
    ineligible: IneligibleReason | None = None

    def first_at(self) -> datetime:
        """When the voter's first slip came out, whichever of the two it was."""
        return self.issued_at if self.other is None else min(self.issued_at, self.other.at)


@dataclass(frozen=True)
class Decision:
    record: ReconcileRecord
    new: bool
    """Whether the record is to be stored (False: the same record again, answered as before)."""


def offline_tx_id(issue: OfflineIssue) -> str:
    """The registry transaction of an offline slip: the same for every replay of it, unlike any terminal's own."""
    key = f"{issue.permit_id}\x00{issue.offline_code}".encode("ascii")
    return hashlib.sha256(_TX_LABEL + key).hexdigest()[:32]


def replay_of(replayed: Replayed, earlier: ReconcileRecord | None) -> Decision | None:
    """The decision for a record already seen under its key; None if it is new (ask the registry)."""
    if earlier is None:
        return None
    if earlier.digest == replayed.digest:
        return Decision(earlier, new=False)
    return Decision(_record(replayed, ReconcileOutcome.CONFLICT, ()), new=True)


def reconcile(replayed: Replayed, answer: RegistryAnswer, faults: tuple[PermitFault, ...]) -> Decision:
    """A new record with the registry's answer for its voter under `offline_tx_id`."""
    match answer:
        case VoterFree():
            record = _record(replayed, ReconcileOutcome.ISSUED, faults)
        case VoterHeldElsewhere(other=other):
            record = _record(replayed, ReconcileOutcome.DOUBLE_VOTE, faults, other=other)
        case VoterIneligible(reason=reason):
            record = _record(replayed, ReconcileOutcome.INELIGIBLE, faults, ineligible=reason)
    return Decision(record, new=True)


def permit_faults(issue: OfflineIssue, permit: Permit | None, secrets: PermitSecrets | None,
                  ended_at: datetime | None) -> tuple[PermitFault, ...]:
    """Where a verified record strays from the permit it names (the district's copy, its secrets and its end, if
    any; None for a permit the district never issued)."""
    if permit is None or secrets is None or permit.permit_id != issue.permit_id:
        return (PermitFault.UNKNOWN_PERMIT,)
    faults = []
    if issue.district != permit.district:
        faults.append(PermitFault.FOREIGN_DISTRICT)
    if issue.branch != permit.branch:
        faults.append(PermitFault.FOREIGN_BRANCH)
    slot = permit.slot_of(issue.terminal)
    if slot is None:
        faults.append(PermitFault.FOREIGN_TERMINAL)
    if issue.activation > permit.activations:
        faults.append(PermitFault.BAD_ACTIVATION)
    if issue.issued_at < permit.not_before:
        faults.append(PermitFault.BEFORE_WINDOW)
    if issue.issued_at >= permit.not_after:
        faults.append(PermitFault.AFTER_WINDOW)
    if ended_at is not None and issue.issued_at >= ended_at:
        faults.append(PermitFault.AFTER_END)
    if issue.sequence > permit.max_slips:
        faults.append(PermitFault.OVER_LIMIT)
    if slot is None or not offline_code_holds(issue.offline_code, secrets.activation_key, permit.permit_id,
                                              issue.terminal, slot):
        faults.append(PermitFault.FORGED_CODE)
    return tuple(faults)


def _record(replayed: Replayed, outcome: ReconcileOutcome, faults: tuple[PermitFault, ...], *,
            other: OtherSlip | None = None, ineligible: IneligibleReason | None = None) -> ReconcileRecord:
    issue = replayed.issue
    return ReconcileRecord(outcome, issue.permit_id, issue.offline_code, issue.district, issue.branch,
                           issue.terminal, issue.issued_at, replayed.voter, replayed.digest, faults, other, ineligible)
