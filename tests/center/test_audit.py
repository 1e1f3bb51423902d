"""The registry audit names every broken rule by transaction, and finds none in a registry used correctly."""

from __future__ import annotations

import dataclasses

from center.audit import Violation, ViolationKind, check_registry
from center.registry import Registry, Reservation, ReservationState, ReserveClaim, Reserved
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import DocumentKind, VoidReason
from protocol.national_code import keyed_hash
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A, BRANCH_B, VOTER_KEY


def _row(tx: str, state: ReservationState, code: str | None = None) -> Reservation:
    return Reservation(tx, keyed_hash(VOTER_KEY, ADULT), False, code or new_inquiry_code(), BRANCH_A.terminal,
                       BRANCH_A.branch, BRANCH_A.district, state, 0)


def test_a_registry_used_through_its_operations_has_no_violations(registry: Registry) -> None:
    first = registry.reserve(ReserveClaim("a" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_A))
    assert isinstance(first, Reserved)
    registry.commit("a" * 32, BRANCH_A, first.inquiry_code, 0)
    registry.reserve(ReserveClaim("b" * 32, ADULT_TWO, DocumentKind.SMART_CARD, False, BRANCH_B))
    registry.void("b" * 32, BRANCH_B, VoidReason.VOTER_LEFT)
    registry.void("c" * 32, BRANCH_B, VoidReason.NO_ANSWER)
    assert check_registry(registry.reservations(), polls_closed=True) == ()


def test_a_reservation_still_open_is_a_violation_only_after_closing() -> None:
    rows = [_row("a" * 32, ReservationState.RESERVED)]
    assert check_registry(rows, polls_closed=False) == ()
    assert check_registry(rows, polls_closed=True) == (Violation(ViolationKind.LEFT_OPEN, "a" * 32),)


def test_a_voter_held_by_two_live_reservations_is_named() -> None:
    rows = [_row("a" * 32, ReservationState.COMMITTED), _row("b" * 32, ReservationState.RESERVED)]
    kinds = {(v.kind, v.tx_id) for v in check_registry(rows, polls_closed=False)}
    assert kinds == {(ViolationKind.VOTER_HELD_TWICE, "a" * 32), (ViolationKind.VOTER_HELD_TWICE, "b" * 32)}


def test_reused_and_invalid_inquiry_codes_are_named() -> None:
    code = new_inquiry_code()
    wrong = code[:8] + str((int(code[8]) + 1) % 10)
    rows = [
        _row("a" * 32, ReservationState.VOIDED, code),
        dataclasses.replace(_row("b" * 32, ReservationState.COMMITTED, code), voter=keyed_hash(VOTER_KEY, ADULT_TWO)),
        dataclasses.replace(_row("c" * 32, ReservationState.VOIDED, wrong), voter=None),
    ]
    assert set(check_registry(rows, polls_closed=True)) == {
        Violation(ViolationKind.INQUIRY_CODE_REUSED, "a" * 32),
        Violation(ViolationKind.INQUIRY_CODE_REUSED, "b" * 32),
        Violation(ViolationKind.INQUIRY_CODE_INVALID, "c" * 32),
    }
