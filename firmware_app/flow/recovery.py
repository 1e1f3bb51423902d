"""Start-up and recovery: the journal read back into a state, and the questions only the operator can answer."""

from __future__ import annotations

from firmware_app.flow.anywhere import anywhere, tampered
from firmware_app.flow.effects import Alarm, AlarmKind, Indicate, ResendReserve, Show, StartDeadline
from firmware_app.flow.events import (
    DeadlineKind,
    Event,
    JournalLoaded,
    MinutesStage,
    OpenTx,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorRejected,
    OperatorRetry,
    OperatorVoid,
    SlipCameOut,
    SlipMissing,
    TamperDetected,
    TxStage,
)
from firmware_app.flow.minutes import MINUTES_DEADLINE_ID
from firmware_app.flow.notices import Say, SlipNotPrinted
from firmware_app.flow.states import (
    AfterClose,
    Committing,
    Idle,
    MinutesConflict,
    MinutesSent,
    PollsClosed,
    PollsDay,
    PollsNotOpen,
    PollsPhase,
    PollsSuspended,
    Printing,
    PrintInterrupted,
    RecoveryDecision,
    RecoveryQuestion,
    Reserving,
    SendingMinutes,
    Starting,
    Tx,
)
from firmware_app.flow.transition import Step, not_accepted, refuse
from firmware_app.flow.voter import commit, print_slip, void
from hal.indicators import Signal
from hal.printer import PrintStage
from protocol.messages import VoidReason

Recovered = PollsNotOpen | PollsSuspended | AfterClose | Idle | Reserving | RecoveryDecision | PrintInterrupted


def starting(state: Starting, event: Event) -> Step[Starting | Recovered]:
    match event:
        case JournalLoaded(polls=polls, current=current, day=day, minutes=minutes):
            match polls:
                case PollsPhase.NOT_OPEN:
                    return Step(PollsNotOpen(day=day))
                case PollsPhase.SUSPENDED:
                    return Step(PollsSuspended(day=day), (Show(Say.POLLS_SUSPENDED),))
                case PollsPhase.CLOSED:
                    return _after_close(minutes, day)
                case PollsPhase.OPEN if current is None:
                    return Step(Idle(day=day), (Indicate(Signal.READY),))
                case PollsPhase.OPEN:
                    return _recover(current, day)
        case TamperDetected():
            return tampered(state)
    return not_accepted(state, event)


def _after_close(minutes: MinutesStage | None, day: PollsDay) -> Step[AfterClose]:
    """Closed polls as the journal left them: minutes not recorded yet (entered again from the start: a held
    first entry is not journaled), sent and awaiting the district (the outbox sends the same request again), or
    answered."""
    match minutes:
        case None:
            return Step(PollsClosed(day=day), (Show(Say.POLLS_CLOSED),))
        case MinutesStage.SENT:
            return Step(SendingMinutes(day=day), (StartDeadline(MINUTES_DEADLINE_ID, DeadlineKind.MINUTES),
                                                  Show(Say.MINUTES_PENDING)))
        case MinutesStage.RECORDED:
            return Step(MinutesSent(day=day), (Show(Say.MINUTES_SENT),))
        case MinutesStage.CONFLICT:
            return Step(MinutesConflict(day=day), (Show(Say.MINUTES_CONFLICT), Indicate(Signal.FAULT)))


def _recover(open_tx: OpenTx, day: PollsDay) -> Step[Idle | Reserving | RecoveryDecision | PrintInterrupted]:
    tx = Tx(open_tx.tx_id, open_tx.document, recovered=True, offline=open_tx.offline)
    code = open_tx.inquiry_code
    match open_tx.stage:
        case TxStage.RESERVE_PENDING:
            return Step(Reserving(tx, day=day), (ResendReserve(tx.tx_id), StartDeadline(tx.tx_id, DeadlineKind.RESERVE),
                                                 Show(Say.ASKING_CENTER)))
        case TxStage.ELIGIBLE if code is not None:
            return Step(RecoveryDecision(tx, code, RecoveryQuestion.PRINT_OR_VOID, reprint=open_tx.reprint, day=day),
                        (Show(Say.RECOVERY_PRINT_OR_VOID), Indicate(Signal.FAULT)))
        case TxStage.PRINTING if code is not None:
            return Step(RecoveryDecision(tx, code, RecoveryQuestion.DID_SLIP_COME_OUT, reprint=True, day=day),
                        (Show(Say.RECOVERY_DID_SLIP_COME_OUT), Indicate(Signal.FAULT)))
        case TxStage.PRINT_FAILED if code is not None:
            return Step(PrintInterrupted(tx, code, PrintStage.DURING, None, reprint=open_tx.reprint, day=day),
                        (Show(SlipNotPrinted(None)), Indicate(Signal.FAULT)))
        case _:
            return Step(Idle(day=day), (Alarm(AlarmKind.JOURNAL_INCONSISTENT,
                                              f"{open_tx.stage.value} with no foreground work"),
                                        Indicate(Signal.READY)))


def recovery_decision(state: RecoveryDecision, event: Event) -> Step[RecoveryDecision | Printing | Committing | Idle]:
    """Print or void: CONFIRM (or retry) prints, REJECT, CANCEL or void voids. Did the slip come out: the
    operator says yes (SlipCameOut) or no (SlipMissing, printed again); a void then is OperatorVoid only, never
    a button that also means "no" elsewhere."""
    print_or_void = state.question is RecoveryQuestion.PRINT_OR_VOID
    match event:
        case OperatorConfirmed() | OperatorRetry() if print_or_void:
            return print_slip(state.tx, state.inquiry_code, reprint=state.reprint, day=state.day)
        case OperatorRejected() | OperatorCancelled() if print_or_void:
            return void(state.tx, VoidReason.VOTER_LEFT, state.day)
        case OperatorConfirmed() | OperatorRetry() | OperatorRejected() | OperatorCancelled():
            return refuse(state, "answer whether the slip came out first", Say.SLIP_QUESTION_FIRST)
        case SlipCameOut() | SlipMissing() if print_or_void:
            return refuse(state, "no slip was printed for this transaction")
        case SlipCameOut():
            return commit(state.tx, state.inquiry_code, state.day, reprinted=False)
        case SlipMissing():
            return print_slip(state.tx, state.inquiry_code, reprint=True, day=state.day)
        case OperatorVoid():
            return void(state.tx, VoidReason.VOTER_LEFT, state.day)
        case _:
            return anywhere(state, event)
