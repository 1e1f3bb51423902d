"""Offline operation under a district permit: the permits' arrival, activation, end, and the return to the live check."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    CheckOffline,
    Effect,
    Indicate,
    RecordPermit,
    RecordPermitActivation,
    RecordPermitCodeFailed,
    RecordPermitEnd,
    RecordPermitStoodDown,
    Show,
)
from firmware_app.flow.events import (
    PermitActivationAccepted,
    PermitActivationReceived,
    PermitCodeTyped,
    PermitEndReceived,
    PermitReceived,
)
from firmware_app.flow.notices import PermitRefused, Say
from firmware_app.flow.permits import HeldPermit, active_permit, held_permit, offered_permit, replaced
from firmware_app.flow.states import (
    CheckingOffline,
    DayState,
    Idle,
    PollsDay,
)
from firmware_app.flow.transition import Step, refuse
from firmware_app.identity.document import Document
from hal.indicators import Signal
from protocol.permit import (
    Activated,
    PermitRefusal,
    judge_broadcast_activation,
    judge_code,
    judge_end,
    judge_permit,
)

S = TypeVar("S", bound=DayState)


def offline_now(day: PollsDay) -> HeldPermit | None:
    """The permit the terminal issues OFFLINE slips under now, if any."""
    return active_permit(day.permits)


def check_voter(tx_id: str, document: Document, day: PollsDay, held: HeldPermit) -> Step[CheckingOffline]:
    """Instead of asking the center: check the voter against this terminal's slips, its permit's other terminals'
    and the snapshot (its tags under the snapshot key the permit in use carries)."""
    check = CheckOffline(tx_id, document, held.permit_id, held.secrets)
    return Step(CheckingOffline(tx_id, document, day=day), (check, Show(Say.CHECKING_OFFLINE)))


# --- the permits, in any state with a day ------------------------------------------------------------------------


def permit_received(state: S, event: PermitReceived) -> Step[S]:
    """A permit is kept if it is this terminal's and new; it does nothing until it is activated."""
    held = event.held
    refused = judge_permit(held.permit, held.me)
    if refused is not None:
        return refuse(state, f"permit refused: {refused.value}")
    if held_permit(state.day.permits, held.permit_id) is not None:
        return refuse(state, "permit already held")
    day = dataclasses.replace(state.day, permits=(*state.day.permits, held))
    return Step(dataclasses.replace(state, day=day), (RecordPermit(held.permit_id, event.signed),
                                                      Show(Say.PERMIT_HELD)))


def activation_received(state: S, event: PermitActivationReceived) -> Step[S]:
    """The district's broadcast activation, in any state: judged now, and if it holds, offered to the head of
    branch, who takes it between voters (PermitActivationAccepted). Nothing goes offline without the head."""
    held = held_permit(state.day.permits, event.activation.permit_id)
    if held is None:
        return refuse(state, "activation of a permit not held")
    if offline_now(state.day) is not None:
        return refuse(state, "already offline under a permit")
    judged = judge_broadcast_activation(held.permit, event.activation, held.ledger, held.me, event.at)
    if isinstance(judged, PermitRefusal):
        return refuse(state, f"broadcast activation refused: {judged.value}")
    day = dataclasses.replace(state.day, permits=replaced(state.day.permits, held.offer(event.activation)))
    return Step(dataclasses.replace(state, day=day), (Show(Say.PERMIT_ACTIVATION_OFFERED),))


def activation_accepted(state: Idle, event: PermitActivationAccepted) -> Step[Idle]:
    """The head of branch takes the offered broadcast activation, judged again now (its life may have run out)."""
    if offline_now(state.day) is not None:
        return refuse(state, "already offline under a permit")
    held = offered_permit(state.day.permits)
    if held is None or held.offered is None:
        return refuse(state, "no broadcast activation offered", Say.NO_ACTIVATION_OFFERED)
    judged = judge_broadcast_activation(held.permit, held.offered, held.ledger, held.me, event.at)
    if isinstance(judged, PermitRefusal):
        day = dataclasses.replace(state.day, permits=replaced(
            state.day.permits, dataclasses.replace(held, offered=None)))
        return Step(Idle(day=day), (Show(PermitRefused(judged)), Indicate(Signal.REFUSED)))
    return _activate(state, held, judged, event.official)


def end_received(state: S, event: PermitEndReceived) -> Step[S]:
    """An end is taken whenever it comes: it can only take rights away. The first end of a permit stands."""
    held = held_permit(state.day.permits, event.end.permit_id)
    if held is None:
        return refuse(state, "end of a permit not held")
    if judge_end(held.permit, event.end) is not None:
        return refuse(state, "end refused: malformed")
    if held.ledger.ended_at is not None and held.ledger.ended_at <= event.end.ended_at:
        return refuse(state, "the permit already ended")
    ended = held.ended(event.end.ended_at)
    shown: tuple[Effect, ...] = (Show(Say.PERMIT_ENDED),) if ended.ledger.active is not None else ()
    day = dataclasses.replace(state.day, permits=replaced(state.day.permits, ended))
    return Step(dataclasses.replace(state, day=day), (RecordPermitEnd(held.permit_id, event.end.ended_at), *shown))


def code_typed(state: Idle, event: PermitCodeTyped) -> Step[Idle]:
    """The head of branch's phone code, between voters. Each permit the terminal holds is tried; a wrong code
    that passes its check digit counts against every permit it was tried on (their lock-outs)."""
    if offline_now(state.day) is not None:
        return refuse(state, "already offline under a permit")
    permits = state.day.permits
    if not permits:
        return refuse(state, "no permit held", Say.NO_PERMIT)
    judged = [(held, judge_code(held.permit, held.secrets, event.text, held.ledger, held.me, event.at))
              for held in permits]
    for held, result in judged:
        if isinstance(result, Activated):
            return _activate(state, held, result, event.official)
    failed = [held for held, result in judged if result is PermitRefusal.BAD_CODE]
    if failed:
        day = state.day
        for held in failed:
            day = dataclasses.replace(day, permits=replaced(day.permits, held.code_failed()))
        return Step(Idle(day=day), (*(RecordPermitCodeFailed(held.permit_id) for held in failed),
                                    Alarm(AlarmKind.PERMIT_CODE_FAILED, f"{event.official}"),
                                    Show(PermitRefused(PermitRefusal.BAD_CODE)), Indicate(Signal.REFUSED)))
    reason = _most_telling(tuple(result for _, result in judged if isinstance(result, PermitRefusal)))
    return refuse(state, f"permit code refused: {reason.value}", PermitRefused(reason))


def _most_telling(refusals: tuple[PermitRefusal, ...]) -> PermitRefusal:
    """Of several permits' refusals, the one that tells the head of branch most: a typo first, then a spent code,
    a lock-out, and only then the permits' own state."""
    for reason in (PermitRefusal.NOT_A_CODE, PermitRefusal.REUSED_CODE, PermitRefusal.LOCKED_OUT):
        if reason in refusals:
            return reason
    return refusals[0]


def _activate(state: S, held: HeldPermit, activation: Activated, official: str = "") -> Step[S]:
    activated = held.activated(activation)
    day = dataclasses.replace(state.day, permits=replaced(state.day.permits, activated))
    by = f" by {official}" if official else ""
    return Step(dataclasses.replace(state, day=day), (
        RecordPermitActivation(held.permit_id, activation.activation, activation.path),
        Alarm(AlarmKind.OFFLINE_ACTIVATED, f"{held.permit_id}: activation {activation.activation} "
                                           f"({activation.path.value}){by}"),
        Show(Say.OFFLINE_ACTIVE)))


def stood_down(state: S) -> tuple[S, tuple[Effect, ...]]:
    """The center answered: back to the live check (the activation in use is over); unchanged if not offline."""
    held = offline_now(state.day)
    if held is None:
        return state, ()
    day = dataclasses.replace(state.day, permits=replaced(state.day.permits, held.stood_down()))
    return dataclasses.replace(state, day=day), (RecordPermitStoodDown(held.permit_id), Show(Say.BACK_ONLINE))
