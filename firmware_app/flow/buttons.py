"""What each panel button means in each state, until the operator screen lands (the mapping in docs/flow.md)."""

from __future__ import annotations

from firmware_app.flow.events import (
    ButtonPressed,
    Event,
    OpenPollsRequested,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorDismissed,
    OperatorRejected,
    OperatorRetry,
    OperatorVoid,
    ReprintClosingReport,
    ReprintMinutes,
    ResumeRequested,
    SlipCameOut,
    SlipMissing,
    TamperDetected,
)
from firmware_app.flow.states import (
    AnsweredLate,
    AwaitingConfirmation,
    CheckingOffline,
    CheckingPrinter,
    DocumentRejected,
    EnteringMinutes,
    MinutesConflict,
    MinutesSent,
    NoAnswer,
    OfflineRefused,
    PollsClosed,
    PollsNotOpen,
    PollsSuspended,
    PrinterNotReady,
    PrintInterrupted,
    RecoveryDecision,
    RecoveryQuestion,
    Reserving,
    SendingMinutes,
    SnapshotHit,
    State,
    VoterRefused,
)
from hal.buttons import ButtonEvent


def meaning(state: State, pressed: ButtonPressed) -> Event | None:
    """The event a button stands for here, or None: the press is refused. CONFIRM never means "ask again" where
    a late answer could turn it into "print": in NoAnswer the retry is REJECT, and CONFIRM means nothing."""
    button = pressed.button
    if button is ButtonEvent.TAMPER:
        return TamperDetected()
    confirm, reject, cancel = (button is ButtonEvent.CONFIRM, button is ButtonEvent.REJECT,
                               button is ButtonEvent.CANCEL)
    match state:
        case PollsNotOpen() if confirm:
            return OpenPollsRequested(pressed.at)
        case PollsSuspended() if confirm:
            return ResumeRequested()
        case PollsClosed() | EnteringMinutes() if confirm:
            return ReprintClosingReport()
        case EnteringMinutes() if cancel:
            return OperatorCancelled()
        case SendingMinutes() | MinutesSent() | MinutesConflict() if confirm:
            return ReprintMinutes()
        case DocumentRejected() | VoterRefused() | OfflineRefused():
            return OperatorCancelled() if cancel else OperatorDismissed()
        case SnapshotHit() if not confirm:
            return OperatorRejected()
        case AwaitingConfirmation():
            return OperatorConfirmed() if confirm else OperatorRejected() if reject else OperatorCancelled()
        case CheckingPrinter() | CheckingOffline() | Reserving() if cancel:
            return OperatorCancelled()
        case PrinterNotReady():
            return OperatorRetry() if confirm else OperatorCancelled()
        case NoAnswer() if not confirm:
            return OperatorRetry() if reject else OperatorVoid()
        case AnsweredLate() | PrintInterrupted():
            if confirm:
                return OperatorConfirmed() if isinstance(state, AnsweredLate) else OperatorRetry()
            return OperatorVoid()
        case RecoveryDecision(question=RecoveryQuestion.PRINT_OR_VOID):
            return OperatorConfirmed() if confirm else OperatorVoid()
        case RecoveryDecision(question=RecoveryQuestion.DID_SLIP_COME_OUT) if not cancel:
            return SlipCameOut() if confirm else SlipMissing()
    return None
