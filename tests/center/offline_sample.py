"""A permit for the sample branch's two terminals, and their signed OFFLINE slips, for the center's replay tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from joserfc.jwk import OKPKey

from center.permits import IssuedPermit, issue_permit
from center.registry import Requester
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode
from protocol.offline_code import OfflineIssue, offline_code
from protocol.permit import ActivationPath
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    public_part,
    seal_national_code,
    sign_offline_issue,
)
from tests.center import as_terminal
from tests.center.sample import BRANCH_A, BRANCH_A_SECOND, SEALING_KEY

OUTAGE = datetime(2026, 6, 12, 18, 0, tzinfo=UTC)
"""When the sample permits' window opens (the sample election day, evening)."""


@dataclass(frozen=True)
class PermitSample:
    """A permit of the district's key for BRANCH_A's two terminals; slips of either under it."""

    district_key: OKPKey
    issued: IssuedPermit

    @property
    def permit_id(self) -> str:
        return self.issued.permit.permit_id

    def issue(self, who: Requester, sequence: int, voter: NationalCode, *, minutes: int = 10,
              document: DocumentKind = DocumentKind.SMART_CARD) -> OfflineIssue:
        """`who`'s `sequence`-th offline slip, `minutes` into the outage, its voter sealed to the center."""
        permit = self.issued.permit
        slot = permit.slot_of(who.terminal)
        if slot is None:
            raise ValueError(f"{who.terminal} is not named by the permit")
        code = offline_code(self.issued.secrets.activation_key, permit.permit_id, who.terminal, slot, sequence)
        return OfflineIssue(permit.permit_id, who.district, who.branch, who.terminal, 1, code, sequence,
                            seal_national_code(voter, public_part(SEALING_KEY)), document,
                            OUTAGE + timedelta(minutes=minutes), 0, False)


def permit_sample(*, district: str = BRANCH_A.district, branch: str = BRANCH_A.branch,
                  terminals: tuple[Requester, ...] = (BRANCH_A, BRANCH_A_SECOND), max_slips: int = 50,
                  district_key: OKPKey | None = None) -> PermitSample:
    key = district_key or generate_signing_key()
    issued = issue_permit(district=district, branch=branch,
                          terminals={who.terminal: public_part(generate_sealing_key()) for who in terminals},
                          not_before=OUTAGE, not_after=OUTAGE + timedelta(hours=4), max_slips=max_slips,
                          activations=3, paths=list(ActivationPath), snapshot_key=bytes(32), district_key=key,
                          now=OUTAGE - timedelta(days=1))
    return PermitSample(key, issued)


def signed(issue: OfflineIssue, key: OKPKey | None = None) -> bytes:
    """The record signed by its terminal's key (or by `key`: a forger's, another terminal's)."""
    return sign_offline_issue(issue, key or as_terminal.signing_key_of(issue.terminal))
