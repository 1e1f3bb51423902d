"""The whole flow: `step(state, event)` hands each state to its phase's function; nothing is decided elsewhere."""

from __future__ import annotations

from typing import assert_never

from firmware_app.flow import buttons, minutes, offline_voter, polls, recovery, voter
from firmware_app.flow.events import (
    ButtonPressed,
    CloseAcknowledged,
    CommitAnswered,
    Event,
    MinutesAnswered,
    OfflineIssueAnswered,
    OpenAcknowledged,
    ReserveAnswered,
    VoidAnswered,
)
from firmware_app.flow.offline import stood_down
from firmware_app.flow.states import (
    AnsweredLate,
    AwaitingConfirmation,
    CheckingOffline,
    CheckingPrinter,
    Closing,
    Committing,
    DocumentRejected,
    EnteringMinutes,
    Idle,
    MinutesConflict,
    MinutesSent,
    NoAnswer,
    OfflineRefused,
    Opening,
    PollsClosed,
    PollsNotOpen,
    PollsSuspended,
    PrinterNotReady,
    Printing,
    PrintingZeroReport,
    PrintInterrupted,
    RecoveryDecision,
    Reserving,
    SelfTesting,
    SendingMinutes,
    SnapshotHit,
    Starting,
    State,
    VoterRefused,
)
from firmware_app.flow.transition import Step

__all__ = ["Step", "step"]


CENTER_ANSWERS = (ReserveAnswered, CommitAnswered, VoidAnswered, OfflineIssueAnswered, OpenAcknowledged,
                  CloseAcknowledged, MinutesAnswered)
"""The center's verified answers: any of them taken ends an offline operation (the center answers again)."""


def step(state: State, event: Event) -> Step[State]:
    """The next state and its effects, or an explicit refusal that leaves the state as it was. An answer of the
    center that the state takes also brings the terminal back to the live check, if it was offline."""
    result = _step(state, event)
    if not isinstance(event, CENTER_ANSWERS) or result.refusal is not None or isinstance(result.state, Starting):
        return result
    back, effects = stood_down(result.state)
    return Step(back, (*result.effects, *effects)) if effects else result


def _step(state: State, event: Event) -> Step[State]:
    if isinstance(event, ButtonPressed):
        meant = buttons.meaning(state, event)
        if meant is None:
            return Step(state, refusal=f"the {event.button.value} button means nothing in {type(state).__name__}")
        return step(state, meant)
    match state:
        case Starting():
            return recovery.starting(state, event)
        case PollsNotOpen():
            return polls.not_open(state, event)
        case SelfTesting():
            return polls.self_testing(state, event)
        case PrintingZeroReport():
            return polls.printing_zero_report(state, event)
        case Opening():
            return polls.opening(state, event)
        case PollsSuspended():
            return polls.suspended(state, event)
        case Closing():
            return polls.closing(state, event)
        case PollsClosed():
            return minutes.closed(state, event)
        case EnteringMinutes():
            return minutes.entering(state, event)
        case SendingMinutes():
            return minutes.sending(state, event)
        case MinutesSent():
            return minutes.sent(state, event)
        case MinutesConflict():
            return minutes.conflict(state, event)
        case Idle():
            return voter.idle(state, event)
        case DocumentRejected():
            return voter.document_rejected(state, event)
        case AwaitingConfirmation():
            return voter.awaiting_confirmation(state, event)
        case CheckingPrinter():
            return voter.checking_printer(state, event)
        case CheckingOffline():
            return offline_voter.checking_offline(state, event)
        case SnapshotHit():
            return offline_voter.snapshot_hit(state, event)
        case OfflineRefused():
            return offline_voter.offline_refused(state, event)
        case PrinterNotReady():
            return voter.printer_not_ready(state, event)
        case Reserving():
            return voter.reserving(state, event)
        case NoAnswer():
            return voter.no_answer(state, event)
        case AnsweredLate():
            return voter.answered_late(state, event)
        case VoterRefused():
            return voter.voter_refused(state, event)
        case Printing():
            return voter.printing(state, event)
        case PrintInterrupted():
            return voter.print_interrupted(state, event)
        case Committing():
            return voter.committing(state, event)
        case RecoveryDecision():
            return recovery.recovery_decision(state, event)
        case _:
            assert_never(state)
