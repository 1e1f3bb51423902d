"""The voter phase: from the document to the slip, with the center's answer and the printer's word between."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from firmware_app.flow.anywhere import anywhere, commit_recorded
from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    CancelDeadline,
    CheckFace,
    CheckPrinter,
    Count,
    Counter,
    Effect,
    Indicate,
    PrintSlip,
    ReadCard,
    RecordStage,
    ResendReserve,
    SendCommit,
    SendOfflineIssue,
    SendReserve,
    SendVoid,
    SetPolls,
    Show,
    StartDeadline,
    TellPeers,
)
from firmware_app.flow.events import (
    AnswerUnverifiable,
    CardInserted,
    CardRemoved,
    ClockTicked,
    ClosePollsRequested,
    CommitAnswered,
    DeadlineExpired,
    DeadlineKind,
    DocumentPresented,
    DocumentUnacceptable,
    Event,
    FaceChecked,
    NationalCodeTyped,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorDismissed,
    OperatorOverrode,
    OperatorRejected,
    OperatorRetry,
    OperatorVoid,
    PermitActivationAccepted,
    PermitCodeTyped,
    PrinterChecked,
    PrintSucceeded,
    PrintUnsuccessful,
    ReserveAnswered,
    SuspendRequested,
    TxStage,
)
from firmware_app.flow.notices import (
    DocumentRefused,
    Duplicate,
    FaceResult,
    Ineligible,
    PrinterUnready,
    Say,
    SlipNotPrinted,
)
from firmware_app.flow.offline import activation_accepted, check_voter, code_typed, offline_now
from firmware_app.flow.polls import close_when_due
from firmware_app.flow.states import (
    AnsweredLate,
    AwaitingConfirmation,
    CheckingOffline,
    CheckingPrinter,
    Closing,
    Committing,
    DocumentRejected,
    FaceVerdict,
    Idle,
    NoAnswer,
    NoAnswerReason,
    PollsDay,
    PollsPhase,
    PollsSuspended,
    PrinterNotReady,
    Printing,
    PrintInterrupted,
    RecoveryDecision,
    RecoveryQuestion,
    Reserving,
    Tx,
    VoterRefused,
)
from firmware_app.flow.transition import Step, refuse
from firmware_app.identity.document import Document
from firmware_app.identity.verdict import FaceProblem
from hal.indicators import Signal
from hal.printer import PrintStage
from protocol.messages import DocumentKind, ReserveAnswer, ReserveOutcome, VoidReason
from protocol.national_code import NationalCodeRefusal, parse_national_code

W = TypeVar("W", AwaitingConfirmation, CheckingPrinter, PrinterNotReady)


def idle(state: Idle, event: Event) -> Step[Idle | AwaitingConfirmation | DocumentRejected | PollsSuspended | Closing]:
    match event:
        case CardInserted():
            return Step(state, (ReadCard(),))
        case DocumentPresented(tx_id=tx_id, document=document):
            if not document.photo:
                return _confirm(_without_face(tx_id, document, FaceProblem.NO_PHOTO, state.day))
            return _confirm(AwaitingConfirmation(tx_id, document, day=state.day), CheckFace(tx_id, document.photo))
        case DocumentUnacceptable(refusal=refusal):
            return _reject_document(DocumentRefused(refusal.problem), state.day)
        case NationalCodeTyped():
            return _typed(state, event)
        case PermitCodeTyped():
            return code_typed(state, event)
        case PermitActivationAccepted():
            return activation_accepted(state, event)
        case SuspendRequested():
            return Step(PollsSuspended(day=state.day), (SetPolls(PollsPhase.SUSPENDED), Show(Say.POLLS_SUSPENDED)))
        case ClosePollsRequested(at=at):
            return close_when_due(state, at, asked=True)
        case ClockTicked(at=at):
            return close_when_due(state, at, asked=False)
        case _:
            return anywhere(state, event)


def _typed(state: Idle, event: NationalCodeTyped) -> Step[AwaitingConfirmation | DocumentRejected]:
    if event.document is DocumentKind.SMART_CARD:
        return _reject_document(DocumentRefused(None), state.day)
    parsed = parse_national_code(event.text)
    if isinstance(parsed, NationalCodeRefusal):
        refused = DocumentRefused(parsed.problem, parsed.character, parsed.position, parsed.count)
        return _reject_document(refused, state.day)
    document = Document(kind=event.document, national_code=parsed)
    return _confirm(_without_face(event.tx_id, document, FaceProblem.NO_PHOTO, state.day))


def _without_face(tx_id: str, document: Document, problem: FaceProblem, day: PollsDay) -> AwaitingConfirmation:
    return AwaitingConfirmation(tx_id, document, FaceVerdict.UNAVAILABLE, None, problem, day=day)


def _confirm(state: AwaitingConfirmation, *checks: Effect) -> Step[AwaitingConfirmation]:
    return Step(state, (*checks, Show(Say.CONFIRM_PERSON), Indicate(Signal.BUSY)))


def _reject_document(refused: DocumentRefused, day: PollsDay) -> Step[DocumentRejected]:
    return Step(DocumentRejected(refused, day=day),
                (Count(Counter.REJECTED_DOCUMENTS), Show(refused), Indicate(Signal.REFUSED)))


def document_rejected(state: DocumentRejected, event: Event) -> Step[DocumentRejected | Idle]:
    match event:
        case CardRemoved() | OperatorDismissed() | OperatorCancelled():
            return _back_to_idle(state.day)
        case _:
            return anywhere(state, event)


def awaiting_confirmation(state: AwaitingConfirmation, event: Event
                          ) -> Step[AwaitingConfirmation | CheckingPrinter | Idle]:
    match event:
        case FaceChecked(tx_id=tx_id, verdict=verdict, distance=distance, problem=problem):
            if tx_id != state.tx_id or state.face is not FaceVerdict.PENDING:
                return refuse(state, "face result for another transaction")
            checked = dataclasses.replace(state, face=verdict, distance=distance, face_problem=problem)
            return Step(checked, (Show(FaceResult(verdict, distance, problem)),))
        case OperatorConfirmed():
            match state.face:
                case FaceVerdict.PENDING:
                    return refuse(state, "the face check has not finished", Say.FACE_WAIT)
                case FaceVerdict.NO_MATCH:
                    return refuse(state, "a face mismatch needs the override", Say.FACE_OVERRIDE_NEEDED)
                case FaceVerdict.MATCH | FaceVerdict.UNAVAILABLE:
                    return _check_printer(state.tx_id, state.document, state.day)
        case OperatorOverrode(reason=reason):
            if state.face is not FaceVerdict.NO_MATCH:
                return refuse(state, "the override is only for a face mismatch")
            checking = _check_printer(state.tx_id, state.document, state.day)
            overridden = Alarm(AlarmKind.FACE_OVERRIDDEN, f"{state.tx_id}: {reason.value}")
            return Step(checking.state, (Count(Counter.FACE_OVERRIDES), overridden,
                                         Show(Say.FACE_OVERRIDDEN), *checking.effects))
        case OperatorRejected():
            return Step(Idle(day=state.day), (Count(Counter.OPERATOR_REJECTED), Show(Say.OPERATOR_REJECTED),
                                              Indicate(Signal.READY)))
        case OperatorCancelled() | CardRemoved():
            return _document_withdrawn(state, event)
    return anywhere(state, event)


def checking_printer(state: CheckingPrinter, event: Event
                     ) -> Step[CheckingPrinter | Reserving | CheckingOffline | PrinterNotReady | Idle]:
    match event:
        case PrinterChecked(tx_id=tx_id, status=status):
            if tx_id != state.tx_id:
                return refuse(state, "printer check for another transaction")
            if not status.can_print:
                return Step(PrinterNotReady(state.tx_id, state.document, status, day=state.day),
                            (Show(PrinterUnready(status)), Indicate(Signal.FAULT)))
            held = offline_now(state.day)
            if held is not None:
                return check_voter(state.tx_id, state.document, state.day, held)
            return ask_center(state.tx_id, state.document, state.day)
        case OperatorCancelled() | CardRemoved():
            return _document_withdrawn(state, event)
        case _:
            return anywhere(state, event)


def printer_not_ready(state: PrinterNotReady, event: Event) -> Step[PrinterNotReady | CheckingPrinter | Idle]:
    match event:
        case OperatorRetry():
            return _check_printer(state.tx_id, state.document, state.day)
        case OperatorCancelled() | CardRemoved():
            return _document_withdrawn(state, event)
        case _:
            return anywhere(state, event)


def _document_withdrawn(state: W, event: OperatorCancelled | CardRemoved) -> Step[W | Idle]:
    """Before the center is asked, the operator may cancel, and taking the card out ends the voter's turn."""
    if isinstance(event, OperatorCancelled):
        return _back_to_idle(state.day)
    if state.document.kind is not DocumentKind.SMART_CARD:
        return refuse(state, "the document in use is not a card")
    return Step(Idle(day=state.day), (Show(Say.CARD_REMOVED), Indicate(Signal.READY)))


def ask_center(tx_id: str, document: Document, day: PollsDay) -> Step[Reserving]:
    """Confirmed and the printer ready: the center is asked whether this voter may vote."""
    tx = Tx(tx_id, document.kind)
    return Step(Reserving(tx, day=day), (SendReserve(tx.tx_id, document), StartDeadline(tx.tx_id, DeadlineKind.RESERVE),
                                         Show(Say.ASKING_CENTER)))


def _check_printer(tx_id: str, document: Document, day: PollsDay) -> Step[CheckingPrinter]:
    return Step(CheckingPrinter(tx_id, document, day=day), (CheckPrinter(tx_id), Show(Say.CHECKING_PRINTER)))


def reserving(state: Reserving, event: Event) -> Step[Reserving | Printing | VoterRefused | RecoveryDecision
                                                          | NoAnswer | Idle]:
    tx = state.tx
    match event:
        case ReserveAnswered(tx_id=tx_id, answer=answer) if tx_id == tx.tx_id:
            if answer.outcome is ReserveOutcome.ELIGIBLE and answer.inquiry_code is not None:
                record = RecordStage(tx.tx_id, TxStage.ELIGIBLE, answer.inquiry_code)
                if tx.recovered:
                    return Step(RecoveryDecision(tx, answer.inquiry_code, RecoveryQuestion.PRINT_OR_VOID, reprint=False,
                                                 day=state.day),
                                (CancelDeadline(), record, Show(Say.RECOVERY_PRINT_OR_VOID), Indicate(Signal.FAULT)))
                printing = print_slip(tx, answer.inquiry_code, reprint=False, day=state.day)
                return Step(printing.state, (CancelDeadline(), record, Indicate(Signal.ELIGIBLE), *printing.effects))
            return _refused(tx, answer, state.day, CancelDeadline())
        case ReserveAnswered():
            return refuse(state, "answer for another transaction")
        case AnswerUnverifiable(reason=reason):
            return Step(NoAnswer(tx, NoAnswerReason.UNVERIFIABLE, day=state.day),
                        (CancelDeadline(), Alarm(AlarmKind.UNVERIFIABLE_ANSWER, reason), Show(Say.UNVERIFIABLE),
                         Indicate(Signal.FAULT)))
        case DeadlineExpired(tx_id=tx_id, kind=DeadlineKind.RESERVE) if tx_id == tx.tx_id:
            return Step(NoAnswer(tx, NoAnswerReason.TIMED_OUT, day=state.day),
                        (Show(Say.NO_ANSWER), Indicate(Signal.FAULT)))
        case DeadlineExpired(kind=kind):
            return refuse(state, f"stale {kind.value} deadline")
        case OperatorCancelled():
            voided = void(tx, VoidReason.OPERATOR_CANCELLED, state.day)
            return Step(voided.state, (CancelDeadline(), *voided.effects))
        case _:
            return anywhere(state, event)


def no_answer(state: NoAnswer, event: Event) -> Step[NoAnswer | AnsweredLate | VoterRefused | Reserving | Idle]:
    """The screen has said "no slip": an ELIGIBLE answer now never prints by itself (§2 rule 2)."""
    tx = state.tx
    match event:
        case ReserveAnswered(tx_id=tx_id, answer=answer) if tx_id == tx.tx_id:
            if answer.outcome is ReserveOutcome.ELIGIBLE and answer.inquiry_code is not None:
                record = RecordStage(tx.tx_id, TxStage.ELIGIBLE, answer.inquiry_code)
                return Step(AnsweredLate(tx, answer.inquiry_code, day=state.day),
                            (record, Show(Say.ANSWERED_LATE), Indicate(Signal.FAULT)))
            return _refused(tx, answer, state.day)
        case ReserveAnswered():
            return refuse(state, "answer for another transaction")
        case OperatorRetry():
            return Step(Reserving(tx, day=state.day), (ResendReserve(tx.tx_id),
                                                       StartDeadline(tx.tx_id, DeadlineKind.RESERVE),
                                                       Show(Say.ASKING_CENTER)))
        case OperatorCancelled() | OperatorVoid():
            return void(tx, VoidReason.NO_ANSWER, state.day)
        case _:
            return anywhere(state, event)


def _refused(tx: Tx, answer: ReserveAnswer, day: PollsDay, *settled: Effect) -> Step[VoterRefused]:
    """Any answer but ELIGIBLE with a code: no slip. ELIGIBLE without a code cannot be honoured: REJECTED."""
    extra: tuple[Effect, ...]
    outcome: ReserveOutcome
    match answer.outcome:
        case ReserveOutcome.DUPLICATE:
            notice: Duplicate | Ineligible | Say = Duplicate(answer.first_branch, answer.first_at)
            outcome, stage, extra = answer.outcome, TxStage.REFUSED, (Count(Counter.DUPLICATES_REFUSED),)
        case ReserveOutcome.INELIGIBLE:
            notice = Ineligible(answer.ineligible_reason)
            outcome, stage, extra = answer.outcome, TxStage.REFUSED, (Count(Counter.INELIGIBLE),)
        case ReserveOutcome.VOIDED:
            notice, outcome, stage, extra = Say.TX_VOIDED, answer.outcome, TxStage.VOIDED, ()
        case ReserveOutcome.REJECTED | ReserveOutcome.ELIGIBLE:
            notice, outcome, stage = Say.CENTER_REJECTED, ReserveOutcome.REJECTED, TxStage.REFUSED
            extra = (Alarm(AlarmKind.CENTER_REJECTED, f"{tx.tx_id}: {answer.detail or ''}"),)
    return Step(VoterRefused(tx, outcome, notice, day=day),
                (*settled, RecordStage(tx.tx_id, stage), *extra, Show(notice), Indicate(Signal.REFUSED)))


def voter_refused(state: VoterRefused, event: Event) -> Step[VoterRefused | Idle]:
    match event:
        case OperatorDismissed() | OperatorCancelled():
            return _back_to_idle(state.day)
        case _:
            return anywhere(state, event)


def answered_late(state: AnsweredLate, event: Event) -> Step[AnsweredLate | Printing | Idle]:
    """Print is OperatorConfirmed only (the CONFIRM button), not OperatorRetry, which NoAnswer accepts: a retry
    pressed just before the late answer arrived cannot print. Void is any of the three void events."""
    match event:
        case OperatorConfirmed():
            return print_slip(state.tx, state.inquiry_code, reprint=False, day=state.day)
        case OperatorVoid() | OperatorRejected() | OperatorCancelled():
            return void(state.tx, VoidReason.NO_ANSWER, state.day)
        case _:
            return anywhere(state, event)


def printing(state: Printing, event: Event) -> Step[Printing | Committing | Idle | PrintInterrupted]:
    match event:
        case PrintSucceeded(tx_id=tx_id) | PrintUnsuccessful(tx_id=tx_id) if tx_id != state.tx.tx_id:
            return refuse(state, "print result for another transaction")
        case PrintSucceeded():
            return commit(state.tx, state.inquiry_code, state.day, reprinted=state.reprint)
        case PrintUnsuccessful(stage=stage, status=status):
            paper_moved = stage is PrintStage.DURING
            return Step(PrintInterrupted(state.tx, state.inquiry_code, stage, status,
                                         reprint=state.reprint or paper_moved, day=state.day),
                        (RecordStage(state.tx.tx_id, TxStage.PRINT_FAILED, state.inquiry_code, paper_moved=paper_moved),
                         Show(SlipNotPrinted(status)), Indicate(Signal.FAULT)))
        case _:
            return anywhere(state, event)


def print_interrupted(state: PrintInterrupted, event: Event) -> Step[PrintInterrupted | Printing | Idle]:
    match event:
        case OperatorRetry():
            return print_slip(state.tx, state.inquiry_code, reprint=state.reprint, day=state.day)
        case OperatorVoid() | OperatorCancelled():
            return void(state.tx, VoidReason.PRINT_FAILED, state.day)
        case _:
            return anywhere(state, event)


def committing(state: Committing, event: Event) -> Step[Committing | Idle]:
    tx = state.tx
    match event:
        case CommitAnswered(tx_id=tx_id) if tx_id == tx.tx_id:
            return Step(Idle(day=state.day), (CancelDeadline(), *commit_recorded(event), Indicate(Signal.READY)))
        case DeadlineExpired(tx_id=tx_id, kind=DeadlineKind.COMMIT) if tx_id == tx.tx_id:
            return Step(Idle(day=state.day), (Show(Say.COMMIT_PENDING), Indicate(Signal.READY)))
        case DeadlineExpired(kind=kind):
            return refuse(state, f"stale {kind.value} deadline")
        case _:
            return anywhere(state, event)


# --- shared by the voter and recovery phases --------------------------------------------------------


def print_slip(tx: Tx, code: str, *, reprint: bool, day: PollsDay) -> Step[Printing]:
    return Step(Printing(tx, code, reprint=reprint, day=day),
                (PrintSlip(tx.tx_id, code, tx.document, reprint, offline=tx.offline), Show(Say.PRINTING)))


def commit(tx: Tx, code: str, day: PollsDay, *, reprinted: bool) -> Step[Committing | Idle]:
    """A whole slip is out (the printer said so, or the operator saw it): count it and tell the center. An
    OFFLINE slip's record goes to the outbox, replayed until the center answers; the next voter need not wait."""
    counts: tuple[Effect, ...] = (Count(Counter.REPRINTED),) if reprinted else ()
    if tx.offline:
        return Step(Idle(day=day), (SendOfflineIssue(tx.tx_id), TellPeers(tx.tx_id), Count(Counter.ISSUED),
                                    Count(Counter.OFFLINE_ISSUED), *counts,
                                    Show(Say.ISSUED_OFFLINE), Indicate(Signal.READY)))
    return Step(Committing(tx, code, day=day),
                (SendCommit(tx.tx_id, code), Count(Counter.ISSUED), *counts, StartDeadline(tx.tx_id, DeadlineKind.COMMIT),
                 Show(Say.ISSUED), Indicate(Signal.READY)))


def void(tx: Tx, reason: VoidReason, day: PollsDay) -> Step[Idle]:
    """Give the transaction up: the center frees the voter. An OFFLINE slip that did not come out never reached
    the center: it is voided in the journal only (its record stays, never replayed; its sequence stays spent)."""
    settle: Effect = RecordStage(tx.tx_id, TxStage.VOIDED) if tx.offline else SendVoid(tx.tx_id, reason)
    return Step(Idle(day=day), (settle, Count(Counter.VOIDED), Show(Say.VOIDED), Indicate(Signal.READY)))


def _back_to_idle(day: PollsDay) -> Step[Idle]:
    return Step(Idle(day=day), (Indicate(Signal.READY),))
