"""The transition table: `step(state, event)` gives the next state and the effects, or an explicit refusal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, assert_never

from firmware_app.flow import texts
from firmware_app.flow.effects import (
    Alarm,
    CheckFace,
    CheckPrinter,
    Count,
    Counter,
    Effect,
    Indicate,
    PrintReport,
    PrintSlip,
    RecordExtension,
    RecordStage,
    ResendReserve,
    RunSelfTest,
    SendClose,
    SendCommit,
    SendOpen,
    SendReserve,
    SendVoid,
    SetPolls,
    Show,
    Signal,
    StartDeadline,
)
from firmware_app.flow.events import (
    AnswerUnverifiable,
    CardRemoved,
    CloseAcknowledged,
    ClosePollsRequested,
    ClosingExtended,
    CommitAnswered,
    DeadlineExpired,
    DeadlineKind,
    DocumentPresented,
    DocumentUnacceptable,
    Event,
    FaceChecked,
    JournalLoaded,
    NationalCodeTyped,
    OpenAcknowledged,
    OpenPollsRequested,
    OpenTx,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorDismissed,
    OperatorOverrode,
    OperatorRejected,
    OperatorRetry,
    OperatorVoid,
    PrinterChecked,
    PrintSucceeded,
    PrintUnsuccessful,
    ReportNotPrinted,
    ReportPrinted,
    ReprintClosingReport,
    ReserveAnswered,
    ResumeRequested,
    SelfTestFinished,
    SlipCameOut,
    SlipMissing,
    SuspendRequested,
    TamperDetected,
    TxStage,
    VoidAnswered,
)
from firmware_app.flow.states import (
    ALL_STATES,
    AnsweredLate,
    AwaitingConfirmation,
    CheckingPrinter,
    Closing,
    Committing,
    DocumentRejected,
    FaceVerdict,
    Idle,
    NoAnswer,
    NoAnswerReason,
    Opening,
    PollsClosed,
    PollsNotOpen,
    PollsPhase,
    PollsSuspended,
    PrinterNotReady,
    PrintFailed,
    Printing,
    PrintingZeroReport,
    RecoveryDecision,
    RecoveryQuestion,
    Refused,
    ReportKind,
    Reserving,
    SelfTesting,
    Starting,
    State,
    Tx,
)
from firmware_app.identity.document import Document
from hal.printer import PrintStage
from protocol.messages import (
    CommitOutcome,
    DocumentKind,
    ReserveOutcome,
    VoidOutcome,
    VoidReason,
)
from protocol.national_code import NationalCodeRefusal, parse_national_code

POLLS_DEADLINE_ID = "polls"


@dataclass(frozen=True)
class Step:
    """The result of one event: the next state and the effects, or a refusal with the state unchanged."""

    state: State
    effects: tuple[Effect, ...] = ()
    refusal: str | None = None


@dataclass(frozen=True)
class Rule:
    """One row of the table: the handler and every state it may lead to (the source state included)."""

    handler: Callable[[Any, Any], Step]
    targets: tuple[type[State], ...]


RULES: dict[tuple[type[State], type[Event]], Rule] = {}


def step(state: State, event: Event) -> Step:
    """The whole flow. A pair with no rule is refused explicitly and changes nothing."""
    rule = RULES.get((type(state), type(event)))
    if rule is None:
        return Step(state, refusal=f"{type(event).__name__} is not accepted in {type(state).__name__}")
    return rule.handler(state, event)


def _on(
    states: type[State] | tuple[type[State], ...], event: type[Event], *targets: type[State]
) -> Callable[[Callable[[Any, Any], Step]], Callable[[Any, Any], Step]]:
    sources = states if isinstance(states, tuple) else (states,)

    def register(handler: Callable[[Any, Any], Step]) -> Callable[[Any, Any], Step]:
        for source in sources:
            RULES[(source, event)] = Rule(handler, (*targets, source) if source not in targets else targets)
        return handler

    return register


def _stay(state: State, reason: str) -> Step:
    return Step(state, refusal=reason)


def _void(tx: Tx, reason: VoidReason) -> Step:
    return Step(Idle(), (SendVoid(tx.tx_id, reason), Count(Counter.VOIDED), Show(texts.VOIDED),
                         Indicate(Signal.READY)))


def _print(tx: Tx, code: str, *, reprint: bool) -> Step:
    return Step(Printing(tx, code, reprint),
                (PrintSlip(tx.tx_id, code, tx.document, reprint), Show(texts.PRINTING)))


# --- start-up and recovery -------------------------------------------------------------------------


@_on(Starting, JournalLoaded, PollsNotOpen, PollsSuspended, PollsClosed, Idle, Reserving,
     RecoveryDecision, PrintFailed)
def _journal_loaded(_state: Starting, event: JournalLoaded) -> Step:
    match event.polls:
        case PollsPhase.NOT_OPEN:
            return Step(PollsNotOpen())
        case PollsPhase.SUSPENDED:
            return Step(PollsSuspended(), (Show(texts.POLLS_SUSPENDED),))
        case PollsPhase.CLOSED:
            return Step(PollsClosed(), (Show(texts.POLLS_CLOSED),))
        case PollsPhase.OPEN:
            if event.current is None:
                return Step(Idle(), (Indicate(Signal.READY),))
            return _recover(event.current)
        case _:
            assert_never(event.polls)


def _recover(open_tx: OpenTx) -> Step:
    tx = Tx(open_tx.tx_id, open_tx.document, recovered=True)
    code = open_tx.inquiry_code
    match open_tx.stage:
        case TxStage.RESERVE_PENDING:
            return Step(Reserving(tx), (ResendReserve(tx.tx_id), StartDeadline(tx.tx_id, DeadlineKind.RESERVE),
                                        Show(texts.ASKING_CENTER)))
        case TxStage.ELIGIBLE if code is not None:
            return Step(RecoveryDecision(tx, code, RecoveryQuestion.PRINT_OR_VOID, open_tx.reprint),
                        (Show(texts.RECOVERY_PRINT_OR_VOID), Indicate(Signal.FAULT)))
        case TxStage.PRINTING if code is not None:
            return Step(RecoveryDecision(tx, code, RecoveryQuestion.DID_SLIP_COME_OUT, True),
                        (Show(texts.RECOVERY_DID_SLIP_COME_OUT), Indicate(Signal.FAULT)))
        case TxStage.PRINT_FAILED if code is not None:
            message = texts.PRINT_FAILED.format(detail="پیش از راه‌اندازی دوباره")
            return Step(PrintFailed(tx, code, PrintStage.DURING, open_tx.reprint, message),
                        (Show(message), Indicate(Signal.FAULT)))
        case _:
            return Step(Idle(), (Alarm(f"journal holds {open_tx.stage.value} with no foreground work"),
                                 Indicate(Signal.READY)))


# --- the polls -------------------------------------------------------------------------------------


@_on(PollsNotOpen, OpenPollsRequested, SelfTesting)
def _open_requested(state: PollsNotOpen, event: OpenPollsRequested) -> Step:
    if event.at < event.not_before:
        message = texts.POLLS_NOT_OPEN_YET.format(time=texts.clock(event.not_before))
        return Step(state, (Show(message),), refusal="before the opening time")
    return Step(SelfTesting(), (RunSelfTest(), Show(texts.SELF_TEST)))


@_on(SelfTesting, SelfTestFinished, PollsNotOpen, PrintingZeroReport)
def _self_tested(_state: SelfTesting, event: SelfTestFinished) -> Step:
    if event.problems:
        message = texts.SELF_TEST_FAILED.format(problems="؛ ".join(event.problems))
        return Step(PollsNotOpen(message), (Show(message), Indicate(Signal.FAULT)))
    warnings: tuple[Effect, ...] = ()
    if event.warnings:
        warnings = (Show(texts.SELF_TEST_WARNINGS.format(warnings="؛ ".join(event.warnings))),)
    return Step(PrintingZeroReport(), (*warnings, PrintReport(ReportKind.ZERO), Show(texts.ZERO_REPORT_PRINTING)))


@_on(PrintingZeroReport, ReportPrinted, Opening)
def _zero_report_printed(state: PrintingZeroReport, event: ReportPrinted) -> Step:
    if event.kind is not ReportKind.ZERO:
        return _stay(state, "a report other than the zero report")
    return Step(Opening(), (SendOpen(), StartDeadline(POLLS_DEADLINE_ID, DeadlineKind.OPEN),
                            Show(texts.POLLS_OPENING)))


@_on(PrintingZeroReport, ReportNotPrinted, PollsNotOpen)
def _zero_report_failed(_state: PrintingZeroReport, event: ReportNotPrinted) -> Step:
    message = texts.ZERO_REPORT_FAILED.format(detail=event.message)
    return Step(PollsNotOpen(message), (Show(message), Indicate(Signal.FAULT)))


@_on(Opening, OpenAcknowledged, Idle, PollsNotOpen)
def _opened(_state: Opening, event: OpenAcknowledged) -> Step:
    ahead = event.local_time - event.center_time
    if abs(ahead) > event.tolerance:
        message = texts.clock_off(ahead)
        return Step(PollsNotOpen(message), (Alarm(message), Show(message), Indicate(Signal.FAULT)))
    return Step(Idle(), (SetPolls(PollsPhase.OPEN), Show(texts.POLLS_OPEN), Indicate(Signal.READY)))


@_on(Idle, SuspendRequested, PollsSuspended)
def _suspend(_state: Idle, _event: SuspendRequested) -> Step:
    return Step(PollsSuspended(), (SetPolls(PollsPhase.SUSPENDED), Show(texts.POLLS_SUSPENDED)))


@_on(PollsSuspended, ResumeRequested, Idle)
def _resume(_state: PollsSuspended, _event: ResumeRequested) -> Step:
    return Step(Idle(), (SetPolls(PollsPhase.OPEN), Show(texts.POLLS_OPEN), Indicate(Signal.READY)))


@_on((Idle, PollsSuspended), ClosePollsRequested, Closing)
def _close(state: Idle | PollsSuspended, event: ClosePollsRequested) -> Step:
    if event.at < event.closes_at:
        message = texts.CLOSING_NOT_YET.format(time=texts.clock(event.closes_at))
        return Step(state, (Show(message),), refusal="before the closing time")
    return Step(Closing(), (SetPolls(PollsPhase.CLOSED), SendClose(),
                            StartDeadline(POLLS_DEADLINE_ID, DeadlineKind.CLOSE), PrintReport(ReportKind.CLOSING),
                            Show(texts.POLLS_CLOSING)))


@_on(Closing, CloseAcknowledged, PollsClosed)
def _closed(_state: Closing, _event: CloseAcknowledged) -> Step:
    return Step(PollsClosed(), (Show(texts.POLLS_CLOSED),))


@_on((Closing, PollsClosed), ReportPrinted)
def _closing_report_printed(state: Closing | PollsClosed, event: ReportPrinted) -> Step:
    if event.kind is not ReportKind.CLOSING:
        return _stay(state, "a report other than the closing report")
    return Step(state, (Show(texts.CLOSING_REPORT_PRINTED),))


@_on((Closing, PollsClosed), ReportNotPrinted)
def _closing_report_failed(state: Closing | PollsClosed, event: ReportNotPrinted) -> Step:
    if event.kind is not ReportKind.CLOSING:
        return _stay(state, "a report other than the closing report")
    return Step(state, (Show(texts.CLOSING_REPORT_FAILED.format(detail=event.message)), Indicate(Signal.FAULT)))


@_on(PollsClosed, ReprintClosingReport)
def _reprint_closing_report(state: PollsClosed, _event: ReprintClosingReport) -> Step:
    return Step(state, (PrintReport(ReportKind.CLOSING),))


# --- the document ----------------------------------------------------------------------------------


@_on(Idle, DocumentPresented, AwaitingConfirmation)
def _presented(_state: Idle, event: DocumentPresented) -> Step:
    photo = event.document.photo
    if not photo:
        return Step(_without_face(event.tx_id, event.document), (Show(texts.CONFIRM_PERSON), Indicate(Signal.BUSY)))
    return Step(AwaitingConfirmation(event.tx_id, event.document),
                (CheckFace(event.tx_id, photo), Show(texts.CONFIRM_PERSON), Indicate(Signal.BUSY)))


def _without_face(tx_id: str, document: Document) -> AwaitingConfirmation:
    message = texts.FACE_UNAVAILABLE.format(detail="مدرک عکس ندارد")
    return AwaitingConfirmation(tx_id, document, FaceVerdict.UNAVAILABLE, message)


@_on(AwaitingConfirmation, FaceChecked)
def _face_checked(state: AwaitingConfirmation, event: FaceChecked) -> Step:
    if event.tx_id != state.tx_id or state.face is not FaceVerdict.PENDING:
        return _stay(state, "face result for another transaction")
    distance = texts.decimal(event.distance)
    message = {
        FaceVerdict.MATCH: texts.FACE_MATCH.format(distance=distance),
        FaceVerdict.NO_MATCH: texts.FACE_NO_MATCH.format(distance=distance),
        FaceVerdict.UNAVAILABLE: texts.FACE_UNAVAILABLE.format(detail=event.message),
        FaceVerdict.PENDING: texts.FACE_WAIT,
    }[event.verdict]
    return Step(dataclasses.replace(state, face=event.verdict, face_message=message), (Show(message),))


@_on(Idle, DocumentUnacceptable, DocumentRejected)
def _unacceptable(_state: Idle, event: DocumentUnacceptable) -> Step:
    return _reject_document(event.refusal.message)


@_on(Idle, NationalCodeTyped, AwaitingConfirmation, DocumentRejected)
def _typed(_state: Idle, event: NationalCodeTyped) -> Step:
    if event.document is DocumentKind.SMART_CARD:
        return _reject_document("کد تایپ‌شده نمی‌تواند جای کارت هوشمند را بگیرد؛ کارت را در کارت‌خوان بگذارید.")
    parsed = parse_national_code(event.text)
    if isinstance(parsed, NationalCodeRefusal):
        return _reject_document(parsed.message)
    document = Document(kind=event.document, national_code=parsed)
    return Step(_without_face(event.tx_id, document), (Show(texts.CONFIRM_PERSON), Indicate(Signal.BUSY)))


def _reject_document(message: str) -> Step:
    return Step(DocumentRejected(message),
                (Count(Counter.REJECTED_DOCUMENTS), Show(message), Indicate(Signal.REFUSED)))


@_on((AwaitingConfirmation, CheckingPrinter, PrinterNotReady), CardRemoved, Idle)
def _card_removed_before_confirmation(
    state: AwaitingConfirmation | CheckingPrinter | PrinterNotReady, _event: CardRemoved
) -> Step:
    if state.document.kind is not DocumentKind.SMART_CARD:
        return _stay(state, "the document in use is not a card")
    return Step(Idle(), (Show(texts.CARD_REMOVED), Indicate(Signal.READY)))


@_on(DocumentRejected, CardRemoved, Idle)
@_on((DocumentRejected, Refused), OperatorDismissed, Idle)
@_on((DocumentRejected, Refused, AwaitingConfirmation, CheckingPrinter, PrinterNotReady), OperatorCancelled, Idle)
def _back_to_idle(_state: State, _event: Event) -> Step:
    return Step(Idle(), (Indicate(Signal.READY),))


@_on(AwaitingConfirmation, OperatorRejected, Idle)
def _operator_rejected(_state: AwaitingConfirmation, _event: OperatorRejected) -> Step:
    return Step(Idle(), (Count(Counter.OPERATOR_REJECTED), Show(texts.OPERATOR_REJECTED), Indicate(Signal.READY)))


@_on(AwaitingConfirmation, OperatorConfirmed, CheckingPrinter)
def _confirmed(state: AwaitingConfirmation, _event: OperatorConfirmed) -> Step:
    match state.face:
        case FaceVerdict.PENDING:
            return Step(state, (Show(texts.FACE_WAIT),), refusal="the face check has not finished")
        case FaceVerdict.NO_MATCH:
            return Step(state, (Show(texts.FACE_OVERRIDE_NEEDED),), refusal="a face mismatch needs the override")
        case FaceVerdict.MATCH | FaceVerdict.UNAVAILABLE:
            return _check_printer(state.tx_id, state.document)
        case _:
            assert_never(state.face)


@_on(AwaitingConfirmation, OperatorOverrode, CheckingPrinter)
def _overrode(state: AwaitingConfirmation, _event: OperatorOverrode) -> Step:
    if state.face is not FaceVerdict.NO_MATCH:
        return _stay(state, "the override is only for a face mismatch")
    checking = _check_printer(state.tx_id, state.document)
    return Step(checking.state, (Count(Counter.FACE_OVERRIDES), Alarm(f"face mismatch overridden in {state.tx_id}"),
                                 Show(texts.FACE_OVERRIDDEN), *checking.effects))


@_on(PrinterNotReady, OperatorRetry, CheckingPrinter)
def _printer_retry(state: PrinterNotReady, _event: OperatorRetry) -> Step:
    return _check_printer(state.tx_id, state.document)


def _check_printer(tx_id: str, document: Document) -> Step:
    return Step(CheckingPrinter(tx_id, document), (CheckPrinter(tx_id), Show(texts.CHECKING_PRINTER)))


@_on(CheckingPrinter, PrinterChecked, Reserving, PrinterNotReady)
def _printer_checked(state: CheckingPrinter, event: PrinterChecked) -> Step:
    if event.tx_id != state.tx_id:
        return _stay(state, "printer check for another transaction")
    if not event.ready:
        message = texts.PRINTER_NOT_READY.format(detail=event.message)
        return Step(PrinterNotReady(state.tx_id, state.document, message), (Show(message), Indicate(Signal.FAULT)))
    tx = Tx(state.tx_id, state.document.kind)
    return Step(Reserving(tx), (SendReserve(tx.tx_id, state.document),
                                StartDeadline(tx.tx_id, DeadlineKind.RESERVE), Show(texts.ASKING_CENTER)))


# --- the center's answer ---------------------------------------------------------------------------


@_on(Reserving, ReserveAnswered, Printing, Refused, RecoveryDecision)
@_on(NoAnswer, ReserveAnswered, AnsweredLate, Refused)
def _answered(state: Reserving | NoAnswer, event: ReserveAnswered) -> Step:
    """In NoAnswer the screen has said "no slip": an ELIGIBLE answer then never prints by itself (§2 rule 2)."""
    tx = state.tx
    if event.tx_id != tx.tx_id:
        return _stay(state, "answer for another transaction")
    answer = event.answer
    match answer.outcome:
        case ReserveOutcome.ELIGIBLE if answer.inquiry_code is not None:
            code = answer.inquiry_code
            record = RecordStage(tx.tx_id, TxStage.ELIGIBLE, code)
            if isinstance(state, NoAnswer):
                return Step(AnsweredLate(tx, code), (record, Show(texts.ANSWERED_LATE), Indicate(Signal.FAULT)))
            if tx.recovered:
                return Step(RecoveryDecision(tx, code, RecoveryQuestion.PRINT_OR_VOID, False),
                            (record, Show(texts.RECOVERY_PRINT_OR_VOID), Indicate(Signal.FAULT)))
            printing = _print(tx, code, reprint=False)
            return Step(printing.state, (record, Indicate(Signal.ELIGIBLE), *printing.effects))
        case ReserveOutcome.DUPLICATE:
            first_at = texts.clock(answer.first_at) if answer.first_at else "؟"
            message = texts.DUPLICATE.format(branch=answer.first_branch or "؟", time=first_at)
            return _refused(tx, answer.outcome, message, TxStage.REFUSED, Count(Counter.DUPLICATES_REFUSED))
        case ReserveOutcome.INELIGIBLE:
            message = texts.INELIGIBLE.format(reason=texts.ineligible_reason(answer.ineligible_reason))
            return _refused(tx, answer.outcome, message, TxStage.REFUSED, Count(Counter.INELIGIBLE))
        case ReserveOutcome.VOIDED:
            return _refused(tx, answer.outcome, texts.TX_VOIDED, TxStage.VOIDED)
        case ReserveOutcome.REJECTED | ReserveOutcome.ELIGIBLE:
            return _refused(tx, ReserveOutcome.REJECTED, texts.CENTER_REJECTED, TxStage.REFUSED,
                            Alarm(f"center rejected transaction {tx.tx_id}: {answer.detail or ''}"))
        case _:
            assert_never(answer.outcome)


def _refused(tx: Tx, outcome: ReserveOutcome, message: str, stage: TxStage, *extra: Effect) -> Step:
    return Step(Refused(tx, outcome, message),
                (RecordStage(tx.tx_id, stage), *extra, Show(message), Indicate(Signal.REFUSED)))


@_on(Reserving, AnswerUnverifiable, NoAnswer)
def _unverifiable(state: Reserving, event: AnswerUnverifiable) -> Step:
    return Step(NoAnswer(state.tx, NoAnswerReason.UNVERIFIABLE),
                (Alarm(f"unverifiable answer: {event.reason}"), Show(texts.UNVERIFIABLE), Indicate(Signal.FAULT)))


def _unverifiable_elsewhere(state: State, event: AnswerUnverifiable) -> Step:
    return Step(state, (Alarm(f"unverifiable answer: {event.reason}"), Show(texts.ANSWER_FORGED)))


for _source in ALL_STATES:
    if _source is not Reserving:
        RULES[(_source, AnswerUnverifiable)] = Rule(_unverifiable_elsewhere, (_source,))


@_on(NoAnswer, OperatorRetry, Reserving)
def _retry_reserve(state: NoAnswer, _event: OperatorRetry) -> Step:
    return Step(Reserving(state.tx), (ResendReserve(state.tx.tx_id),
                                      StartDeadline(state.tx.tx_id, DeadlineKind.RESERVE), Show(texts.ASKING_CENTER)))


@_on((Reserving, NoAnswer), OperatorCancelled, Idle)
@_on(NoAnswer, OperatorVoid, Idle)
def _cancel_reservation(state: Reserving | NoAnswer, _event: Event) -> Step:
    reason = VoidReason.NO_ANSWER if isinstance(state, NoAnswer) else VoidReason.OPERATOR_CANCELLED
    return _void(state.tx, reason)


# --- a late ELIGIBLE answer: the operator prints now or voids ----------------------------------------
# Print is OperatorConfirmed only (the CONFIRM button): not OperatorRetry, which NoAnswer accepts, so that a
# retry pressed just before the late answer arrived cannot print. Void is any of the three void events.


@_on(AnsweredLate, OperatorConfirmed, Printing)
def _print_late(state: AnsweredLate, _event: OperatorConfirmed) -> Step:
    return _print(state.tx, state.inquiry_code, reprint=False)


@_on(AnsweredLate, OperatorVoid, Idle)
@_on(AnsweredLate, OperatorRejected, Idle)
@_on(AnsweredLate, OperatorCancelled, Idle)
def _void_late(state: AnsweredLate, _event: Event) -> Step:
    return _void(state.tx, VoidReason.NO_ANSWER)


# --- deadlines -------------------------------------------------------------------------------------


@_on(Reserving, DeadlineExpired, NoAnswer)
@_on(Committing, DeadlineExpired, Idle)
@_on(Opening, DeadlineExpired, PollsNotOpen)
@_on(Closing, DeadlineExpired, PollsClosed)
def _deadline(state: Reserving | Committing | Opening | Closing, event: DeadlineExpired) -> Step:
    match state, event.kind:
        case Reserving(tx=tx), DeadlineKind.RESERVE if tx.tx_id == event.tx_id:
            return Step(NoAnswer(tx, NoAnswerReason.TIMED_OUT), (Show(texts.NO_ANSWER), Indicate(Signal.FAULT)))
        case Committing(tx=tx), DeadlineKind.COMMIT if tx.tx_id == event.tx_id:
            return Step(Idle(), (Show(texts.COMMIT_PENDING), Indicate(Signal.READY)))
        case Opening(), DeadlineKind.OPEN:
            return Step(PollsNotOpen(texts.OPEN_NOT_ACKNOWLEDGED), (Show(texts.OPEN_NOT_ACKNOWLEDGED),))
        case Closing(), DeadlineKind.CLOSE:
            return Step(PollsClosed(), (Show(texts.CLOSE_PENDING),))
        case _:
            return _stay(state, f"stale {event.kind.value} deadline")


# --- printing --------------------------------------------------------------------------------------


@_on(Printing, PrintSucceeded, Committing)
def _printed(state: Printing, event: PrintSucceeded) -> Step:
    if event.tx_id != state.tx.tx_id:
        return _stay(state, "print result for another transaction")
    counts: tuple[Effect, ...] = (Count(Counter.REPRINTED),) if state.reprint else ()
    return Step(Committing(state.tx, state.inquiry_code),
                (SendCommit(state.tx.tx_id, state.inquiry_code), Count(Counter.ISSUED), *counts,
                 StartDeadline(state.tx.tx_id, DeadlineKind.COMMIT), Show(texts.ISSUED), Indicate(Signal.READY)))


@_on(Printing, PrintUnsuccessful, PrintFailed)
def _print_failed(state: Printing, event: PrintUnsuccessful) -> Step:
    if event.tx_id != state.tx.tx_id:
        return _stay(state, "print result for another transaction")
    paper_moved = event.stage is PrintStage.DURING
    message = texts.PRINT_FAILED.format(detail=event.message)
    return Step(PrintFailed(state.tx, state.inquiry_code, event.stage, state.reprint or paper_moved, message),
                (RecordStage(state.tx.tx_id, TxStage.PRINT_FAILED, state.inquiry_code, paper_moved=paper_moved),
                 Show(message), Indicate(Signal.FAULT)))


@_on(PrintFailed, OperatorRetry, Printing)
def _retry_print(state: PrintFailed, _event: OperatorRetry) -> Step:
    return _print(state.tx, state.inquiry_code, reprint=state.reprint)


@_on(PrintFailed, (OperatorVoid), Idle)
@_on(PrintFailed, OperatorCancelled, Idle)
def _void_after_print_failure(state: PrintFailed, _event: Event) -> Step:
    return _void(state.tx, VoidReason.PRINT_FAILED)


# --- recovery decisions ----------------------------------------------------------------------------


@_on(RecoveryDecision, OperatorRetry, Printing)
@_on(RecoveryDecision, OperatorConfirmed, Printing)
def _recovery_print(state: RecoveryDecision, _event: Event) -> Step:
    if state.question is not RecoveryQuestion.PRINT_OR_VOID:
        return _stay(state, "answer whether the slip came out first")
    return _print(state.tx, state.inquiry_code, reprint=state.reprint)


@_on(RecoveryDecision, SlipCameOut, Committing)
def _recovery_slip_came_out(state: RecoveryDecision, _event: SlipCameOut) -> Step:
    if state.question is not RecoveryQuestion.DID_SLIP_COME_OUT:
        return _stay(state, "no slip was printed for this transaction")
    return Step(Committing(state.tx, state.inquiry_code),
                (SendCommit(state.tx.tx_id, state.inquiry_code), Count(Counter.ISSUED),
                 StartDeadline(state.tx.tx_id, DeadlineKind.COMMIT), Show(texts.ISSUED), Indicate(Signal.READY)))


@_on(RecoveryDecision, SlipMissing, Printing)
def _recovery_slip_missing(state: RecoveryDecision, _event: SlipMissing) -> Step:
    if state.question is not RecoveryQuestion.DID_SLIP_COME_OUT:
        return _stay(state, "no slip was printed for this transaction")
    return _print(state.tx, state.inquiry_code, reprint=True)


@_on(RecoveryDecision, OperatorVoid, Idle)
def _recovery_void(state: RecoveryDecision, _event: OperatorVoid) -> Step:
    return _void(state.tx, VoidReason.VOTER_LEFT)


@_on(RecoveryDecision, OperatorRejected, Idle)
@_on(RecoveryDecision, OperatorCancelled, Idle)
def _recovery_void_by_button(state: RecoveryDecision, _event: Event) -> Step:
    """The REJECT and CANCEL buttons void only for print-or-void; whether a slip came out needs its own answer."""
    if state.question is not RecoveryQuestion.PRINT_OR_VOID:
        return _stay(state, "answer whether the slip came out first")
    return _void(state.tx, VoidReason.VOTER_LEFT)


# --- acknowledgements of commits and voids, in any state ----------------------------------------------


def _commit_answered(state: State, event: CommitAnswered) -> Step:
    if event.outcome is CommitOutcome.NOT_RESERVED:
        effects: tuple[Effect, ...] = (RecordStage(event.tx_id, TxStage.DISPUTED), Alarm(texts.COMMIT_DISPUTED),
                                       Show(texts.COMMIT_DISPUTED))
    else:
        effects = (RecordStage(event.tx_id, TxStage.ISSUED),)
    if isinstance(state, Committing) and state.tx.tx_id == event.tx_id:
        return Step(Idle(), (*effects, Indicate(Signal.READY)))
    return Step(state, effects)


def _void_answered(state: State, event: VoidAnswered) -> Step:
    if event.outcome is VoidOutcome.ALREADY_COMMITTED:
        return Step(state, (RecordStage(event.tx_id, TxStage.ISSUED), Alarm(texts.VOID_AFTER_COMMIT)))
    return Step(state, (RecordStage(event.tx_id, TxStage.VOIDED),))


def _extended(state: State, event: ClosingExtended) -> Step:
    return Step(state, (RecordExtension(event.until), Show(texts.EXTENDED.format(time=texts.clock(event.until)))))


def _tampered(state: State, _event: TamperDetected) -> Step:
    return Step(state, (Alarm("tamper switch: the case was opened"), Show(texts.TAMPER), Indicate(Signal.FAULT)))


for _source in ALL_STATES:
    RULES[(_source, ClosingExtended)] = Rule(_extended, (_source,))
    RULES[(_source, TamperDetected)] = Rule(_tampered, (_source,))
    targets = (Committing, Idle) if _source is Committing else (_source,)
    RULES[(_source, CommitAnswered)] = Rule(_commit_answered, targets)
    RULES[(_source, VoidAnswered)] = Rule(_void_answered, (_source,))
