"""A voter while the terminal is offline under a permit: the offline check, the head's decision on a snapshot hit,
the OFFLINE slip."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from firmware_app.flow.anywhere import anywhere
from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    Count,
    Counter,
    Effect,
    Indicate,
    RecordOfflineIssue,
    RecordPermitStoodDown,
    Show,
)
from firmware_app.flow.events import (
    CardRemoved,
    Event,
    OfflineChecked,
    OfflineHitAllowed,
    OfflineVerdict,
    OperatorCancelled,
    OperatorDismissed,
    OperatorRejected,
)
from firmware_app.flow.notices import PermitRefused, Say
from firmware_app.flow.offline import offline_now
from firmware_app.flow.permits import replaced
from firmware_app.flow.states import (
    CheckingOffline,
    Idle,
    OfflineRefused,
    PollsDay,
    Printing,
    Reserving,
    SnapshotHit,
    Tx,
)
from firmware_app.flow.transition import Step, refuse
from firmware_app.flow.voter import ask_center, print_slip
from firmware_app.identity.document import Document
from hal.indicators import Signal
from protocol.offline_code import offline_code
from protocol.permit import PermitRefusal, judge_offline_slip

ENDS_OFFLINE = frozenset({PermitRefusal.EXPIRED, PermitRefusal.ENDED, PermitRefusal.OVER_LIMIT})
"""A slip refused for these reasons ends the offline operation: the permit no longer allows any slip."""



def checking_offline(state: CheckingOffline, event: Event) -> Step[CheckingOffline | SnapshotHit | OfflineRefused
                                                                    | Printing | Reserving | Idle]:
    match event:
        case OfflineChecked(tx_id=tx_id) if tx_id != state.tx_id:
            return refuse(state, "offline check of another transaction")
        case OfflineChecked(verdict=OfflineVerdict.ISSUED_HERE):
            return Step(OfflineRefused(state.tx_id, Say.OFFLINE_ALREADY_ISSUED, day=state.day),
                        (Count(Counter.DUPLICATES_REFUSED), Show(Say.OFFLINE_ALREADY_ISSUED), Indicate(Signal.REFUSED)))
        case OfflineChecked(verdict=OfflineVerdict.ISSUED_AT_BRANCH):
            return Step(OfflineRefused(state.tx_id, Say.OFFLINE_ISSUED_AT_BRANCH, day=state.day),
                        (Count(Counter.DUPLICATES_REFUSED), Show(Say.OFFLINE_ISSUED_AT_BRANCH),
                         Indicate(Signal.REFUSED)))
        case OfflineChecked(verdict=OfflineVerdict.SNAPSHOT_HIT, snapshot_version=version):
            return Step(SnapshotHit(state.tx_id, state.document, version, day=state.day),
                        (Show(Say.SNAPSHOT_HIT), Indicate(Signal.FAULT)))
        case OfflineChecked(snapshot_version=version, at=at):
            return issue(state.tx_id, state.document, version, False, at, state.day)
        case OperatorCancelled() | CardRemoved():
            return Step(Idle(day=state.day), (Indicate(Signal.READY),))
        case _:
            return anywhere(state, event)


def snapshot_hit(state: SnapshotHit, event: Event) -> Step[SnapshotHit | OfflineRefused | Printing | Reserving
                                                            | Idle]:
    """The head of branch decides: let the slip go (with the head's PIN, alarmed) or refuse it."""
    match event:
        case OfflineHitAllowed(at=at):
            issued = issue(state.tx_id, state.document, state.snapshot_version, True, at, state.day)
            if not isinstance(issued.state, Printing):
                return issued
            allowed = Alarm(AlarmKind.SNAPSHOT_HIT_ALLOWED, f"{state.tx_id}: snapshot {state.snapshot_version}")
            return Step(issued.state, (allowed, Show(Say.SNAPSHOT_HIT_ALLOWED), *issued.effects))
        case OperatorRejected() | OperatorCancelled() | OperatorDismissed():
            return Step(Idle(day=state.day), (Count(Counter.DUPLICATES_REFUSED), Indicate(Signal.READY)))
        case _:
            return anywhere(state, event)


def offline_refused(state: OfflineRefused, event: Event) -> Step[OfflineRefused | Idle]:
    match event:
        case OperatorDismissed() | OperatorCancelled() | CardRemoved():
            return Step(Idle(day=state.day), (Indicate(Signal.READY),))
        case _:
            return anywhere(state, event)


def issue(tx_id: str, document: Document, snapshot_version: int, hit: bool, at: datetime, day: PollsDay
          ) -> Step[OfflineRefused | Printing | Reserving]:
    """One more OFFLINE slip, if the permit allows it now (judge_offline_slip): its record is journaled before the
    print, with the next sequence number and its offline code. A permit that no longer allows any slip (its
    window or limit reached, or ended) ends the offline operation. Back on the live check meanwhile (the center
    answered): the center is asked, as for any voter."""
    held = offline_now(day)
    if held is None:
        return ask_center(tx_id, document, day)
    refused = judge_offline_slip(held.permit, held.ledger, held.me, at)
    if refused is not None:
        effects: tuple[Effect, ...] = ()
        if refused in ENDS_OFFLINE:
            day = dataclasses.replace(day, permits=replaced(day.permits, held.stood_down()))
            effects = (RecordPermitStoodDown(held.permit_id),)
        return Step(OfflineRefused(tx_id, PermitRefused(refused), day=day),
                    (*effects, Show(PermitRefused(refused)), Indicate(Signal.REFUSED)))
    activation = held.ledger.active
    if activation is None:
        raise ValueError("an offline permit in use has an activation")
    sequence = held.ledger.slips_issued + 1
    code = offline_code(held.secrets.activation_key, held.permit_id, held.me.terminal, held.slot, sequence)
    day = dataclasses.replace(day, permits=replaced(day.permits, held.slip_issued()))
    record = RecordOfflineIssue(tx_id, document, held.permit_id, activation, sequence, code, snapshot_version, hit,
                                at, held.secrets)
    printing = print_slip(Tx(tx_id, document.kind, offline=True), code, reprint=False, day=day)
    return Step(printing.state, (record, Indicate(Signal.ELIGIBLE), *printing.effects))
