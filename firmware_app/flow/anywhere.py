"""Events every state with a polling day takes the same way, and the refusal of every other pair."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TypeVar

from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    Effect,
    Indicate,
    RecordExtension,
    RecordInstructions,
    RecordReconciled,
    RecordStage,
    Show,
)
from firmware_app.flow.events import (
    AnswerUnverifiable,
    CardInserted,
    ClockTicked,
    ClosingExtended,
    CommitAnswered,
    Event,
    InstructionsReceived,
    MinutesEntered,
    OfflineIssueAnswered,
    PermitActivationAccepted,
    PermitActivationReceived,
    PermitCodeTyped,
    PermitEndReceived,
    PermitReceived,
    TamperDetected,
    TxStage,
    VoidAnswered,
)
from firmware_app.flow.notices import Extended, InstructionsArrived, Say
from firmware_app.flow.offline import activation_received, end_received, permit_received
from firmware_app.flow.states import AfterClose, Closing, DayState
from firmware_app.flow.transition import Step, not_accepted, refuse
from hal.indicators import Signal
from protocol.messages import CommitOutcome, CountingInstructions, OfflineOutcome, VoidOutcome

S = TypeVar("S", bound=DayState)
T = TypeVar("T")


def anywhere(state: S, event: Event) -> Step[S]:
    """What a state does with an event it has no rule of its own for: the background events below keep the
    state (they are acknowledgements, alarms and the clock); any other event is refused."""
    match event:
        case TamperDetected():
            return tampered(state)
        case ClosingExtended(until=until):
            return _extended(state, until)
        case InstructionsReceived(instructions=instructions):
            return _instructed(state, instructions)
        case MinutesEntered():
            return refuse(state, "the minutes are entered once the polls are closed", Say.MINUTES_AFTER_CLOSE)
        case CommitAnswered():
            return Step(state, commit_recorded(event))
        case VoidAnswered(tx_id=tx_id, outcome=outcome):
            if outcome is VoidOutcome.ALREADY_COMMITTED:
                return Step(state, (RecordStage(tx_id, TxStage.ISSUED), Alarm(AlarmKind.VOID_AFTER_COMMIT, tx_id),
                                    Show(Say.VOID_AFTER_COMMIT)))
            return Step(state, (RecordStage(tx_id, TxStage.VOIDED),))
        case OfflineIssueAnswered():
            return Step(state, reconciled(event))
        case PermitReceived():
            return permit_received(state, event)
        case PermitActivationReceived():
            return activation_received(state, event)
        case PermitEndReceived():
            return end_received(state, event)
        case PermitCodeTyped() | PermitActivationAccepted():
            return refuse(state, "a permit is activated between voters", Say.PERMIT_WHEN_IDLE)
        case AnswerUnverifiable(reason=reason):
            return Step(state, (Alarm(AlarmKind.UNVERIFIABLE_ANSWER, reason), Show(Say.ANSWER_FORGED)))
        case ClockTicked():
            return Step(state)
        case CardInserted():
            return refuse(state, "a card is read only when the terminal is idle", Say.CARD_NOT_NOW)
        case _:
            return not_accepted(state, event)


def tampered(state: T) -> Step[T]:
    """The case was opened: an alarm, in any state (Starting too); the state stays, an official looks."""
    return Step(state, (Alarm(AlarmKind.TAMPER), Show(Say.TAMPER), Indicate(Signal.FAULT)))


def commit_recorded(event: CommitAnswered) -> tuple[Effect, ...]:
    """The journal's record of the center's answer to a commit, whichever state the terminal is in."""
    if event.outcome is CommitOutcome.NOT_RESERVED:
        return (RecordStage(event.tx_id, TxStage.DISPUTED), Alarm(AlarmKind.COMMIT_DISPUTED, event.tx_id),
                Show(Say.COMMIT_DISPUTED))
    return (RecordStage(event.tx_id, TxStage.ISSUED),)


def reconciled(event: OfflineIssueAnswered) -> tuple[Effect, ...]:
    """The center's record of a replayed OFFLINE slip, whichever state the terminal is in: kept with the slip; a
    double vote, a conflict or a rejected record is an alarm for the head of branch (each is also the district's
    to follow up)."""
    record = RecordReconciled(event.tx_id, event.outcome)
    detail = f"{event.tx_id}: {event.offline_code or '-'}"
    match event.outcome:
        case OfflineOutcome.ISSUED | OfflineOutcome.INELIGIBLE:
            return (record,)
        case OfflineOutcome.DOUBLE_VOTE:
            return (record, Alarm(AlarmKind.DOUBLE_VOTE_FOUND, detail), Show(Say.DOUBLE_VOTE_FOUND))
        case OfflineOutcome.CONFLICT:
            return (record, Alarm(AlarmKind.OFFLINE_CONFLICT, detail), Show(Say.OFFLINE_CONFLICT))
        case OfflineOutcome.REJECTED:
            return (record, Alarm(AlarmKind.OFFLINE_RECORD_REJECTED, detail), Show(Say.OFFLINE_RECORD_REJECTED),
                    Indicate(Signal.FAULT))


def _extended(state: S, until: datetime) -> Step[S]:
    """The district moved the closing later: only later than the closing held, never past the latest allowed,
    and not once the polls are closing or closed."""
    day = state.day
    if isinstance(state, Closing | AfterClose):
        return refuse(state, "the polls are already closed")
    if until <= day.closes_at:
        return refuse(state, "not later than the closing time held")
    if until > day.latest_close:
        return refuse(state, "past the longest extension allowed")
    extended = dataclasses.replace(state, day=dataclasses.replace(day, closes_at=until))
    return Step(extended, (RecordExtension(until), Show(Extended(until))))


def _instructed(state: S, instructions: CountingInstructions) -> Step[S]:
    """The district's counting instructions: kept if newer than those held (a re-delivered or older broadcast
    changes nothing), whatever the phase, so they are there when the count begins."""
    held = state.day.instructions
    if held is not None and instructions.issued_at <= held.issued_at:
        return refuse(state, "not newer than the counting instructions held")
    instructed = dataclasses.replace(state, day=dataclasses.replace(state.day, instructions=instructions))
    return Step(instructed, (RecordInstructions(instructions), Show(InstructionsArrived(instructions.title))))
