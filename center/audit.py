"""The center's half of the safety rules: checks over the registry that a demo or an auditor can run."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from center.registry import Reservation, ReservationState
from protocol.inquiry_code import is_valid_inquiry_code


class ViolationKind(enum.StrEnum):
    """Which rule a registry breaks."""

    VOTER_HELD_TWICE = "voter_held_twice"
    LEFT_OPEN = "left_open"
    INQUIRY_CODE_REUSED = "inquiry_code_reused"
    INQUIRY_CODE_INVALID = "inquiry_code_invalid"


@dataclass(frozen=True)
class Violation:
    """One broken rule, named by transaction id (never by national code)."""

    kind: ViolationKind
    tx_id: str


def check_registry(reservations: Sequence[Reservation], *, polls_closed: bool) -> tuple[Violation, ...]:
    """Every violation of: one live reservation per voter, unique valid inquiry codes, and, once the polls
    have closed and every terminal has recovered, no reservation left RESERVED."""
    violations: list[Violation] = []
    live = [r for r in reservations if r.state is not ReservationState.VOIDED]
    held = Counter((r.voter, r.training) for r in live)
    violations += [
        Violation(ViolationKind.VOTER_HELD_TWICE, r.tx_id) for r in live if held[(r.voter, r.training)] > 1
    ]
    codes = Counter(r.inquiry_code for r in reservations if r.inquiry_code is not None)
    for r in reservations:
        if r.inquiry_code is None:
            continue
        if codes[r.inquiry_code] > 1:
            violations.append(Violation(ViolationKind.INQUIRY_CODE_REUSED, r.tx_id))
        if not is_valid_inquiry_code(r.inquiry_code):
            violations.append(Violation(ViolationKind.INQUIRY_CODE_INVALID, r.tx_id))
    if polls_closed:
        violations += [
            Violation(ViolationKind.LEFT_OPEN, r.tx_id) for r in reservations if r.state is ReservationState.RESERVED
        ]
    return tuple(violations)
