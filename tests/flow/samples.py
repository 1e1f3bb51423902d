"""Sample states and events: at least one instance of every state and event type, with variants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmware_app.flow import events as ev
from firmware_app.flow import states as st
from firmware_app.identity.document import Document, DocumentProblem, DocumentRefusal
from hal.printer import PrintStage
from protocol.messages import (
    CommitOutcome,
    DocumentKind,
    IneligibleReason,
    ReserveAnswer,
    ReserveOutcome,
    VoidOutcome,
)
from protocol.national_code import NationalCode

TX = "a" * 32
OTHER_TX = "b" * 32
CODE = "123456782"
AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
CARD = Document(DocumentKind.SMART_CARD, NationalCode("0012345679"), "علی", "رضایی", photo=b"\xff\xd8jpeg")
TYPED = Document(DocumentKind.BIRTH_CERTIFICATE, NationalCode("0012345679"))
SMART_TX = st.Tx(TX, DocumentKind.SMART_CARD)
RECOVERED_TX = st.Tx(TX, DocumentKind.SMART_CARD, recovered=True)


def answer(outcome: ReserveOutcome) -> ReserveAnswer:
    return ReserveAnswer(
        outcome=outcome,
        inquiry_code=CODE if outcome is ReserveOutcome.ELIGIBLE else None,
        ineligible_reason=IneligibleReason.DECEASED if outcome is ReserveOutcome.INELIGIBLE else None,
        first_branch="B-0102" if outcome is ReserveOutcome.DUPLICATE else None,
        first_at=AT if outcome is ReserveOutcome.DUPLICATE else None,
        detail=None,
    )


STATES: list[st.State] = [
    st.Starting(),
    st.PollsNotOpen(),
    st.SelfTesting(),
    st.PrintingZeroReport(),
    st.Opening(),
    st.PollsSuspended(),
    st.Closing(),
    st.PollsClosed(),
    st.Idle(),
    st.DocumentRejected("x"),
    *(st.AwaitingConfirmation(TX, CARD, verdict) for verdict in st.FaceVerdict),
    st.AwaitingConfirmation(TX, TYPED, st.FaceVerdict.UNAVAILABLE),
    st.CheckingPrinter(TX, CARD),
    st.CheckingPrinter(TX, TYPED),
    st.PrinterNotReady(TX, CARD, "x"),
    st.Reserving(SMART_TX),
    st.Reserving(RECOVERED_TX),
    st.NoAnswer(SMART_TX, st.NoAnswerReason.TIMED_OUT),
    st.NoAnswer(SMART_TX, st.NoAnswerReason.UNVERIFIABLE),
    st.NoAnswer(RECOVERED_TX, st.NoAnswerReason.TIMED_OUT),
    st.AnsweredLate(SMART_TX, CODE),
    st.AnsweredLate(RECOVERED_TX, CODE),
    st.Refused(SMART_TX, ReserveOutcome.DUPLICATE, "x"),
    st.Printing(SMART_TX, CODE, reprint=False),
    st.Printing(SMART_TX, CODE, reprint=True),
    st.PrintFailed(SMART_TX, CODE, PrintStage.BEFORE, False, "x"),
    st.PrintFailed(SMART_TX, CODE, PrintStage.DURING, True, "x"),
    st.Committing(SMART_TX, CODE),
    st.RecoveryDecision(RECOVERED_TX, CODE, st.RecoveryQuestion.PRINT_OR_VOID, False),
    st.RecoveryDecision(RECOVERED_TX, CODE, st.RecoveryQuestion.DID_SLIP_COME_OUT, True),
]

EVENTS: list[ev.Event] = [
    *(ev.JournalLoaded(phase, None) for phase in st.PollsPhase),
    *(ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(TX, DocumentKind.SMART_CARD, stage, CODE, False))
      for stage in ev.TxStage),
    ev.OpenPollsRequested(AT, AT.replace(hour=7)),
    ev.OpenPollsRequested(AT, AT.replace(hour=9)),
    ev.SelfTestFinished(()),
    ev.SelfTestFinished((), ("camera: not found",)),
    ev.SelfTestFinished(("printer: no paper",)),
    *(ev.ReportPrinted(kind) for kind in st.ReportKind),
    *(ev.ReportNotPrinted(kind, "no paper") for kind in st.ReportKind),
    ev.ReprintClosingReport(),
    ev.ClosingExtended(AT.replace(hour=22)),
    ev.TamperDetected(),
    *(ev.FaceChecked(TX, verdict, 0.4, "") for verdict in st.FaceVerdict),
    ev.FaceChecked(OTHER_TX, st.FaceVerdict.MATCH, 0.3, ""),
    ev.OperatorOverrode(),
    ev.OpenAcknowledged(AT, AT + timedelta(seconds=3)),
    ev.OpenAcknowledged(AT, AT + timedelta(minutes=10)),
    ev.OpenAcknowledged(AT, AT - timedelta(minutes=3)),
    ev.SuspendRequested(),
    ev.ResumeRequested(),
    ev.ClosePollsRequested(AT, AT.replace(hour=7)),
    ev.ClosePollsRequested(AT, AT.replace(hour=18)),
    ev.CloseAcknowledged(),
    ev.DocumentPresented(TX, CARD),
    ev.DocumentUnacceptable(DocumentRefusal(DocumentProblem.SIGNATURE_INVALID, "x")),
    ev.NationalCodeTyped(TX, "۰۰۱۲۳۴۵۶۷۹", DocumentKind.BIRTH_CERTIFICATE),
    ev.NationalCodeTyped(TX, "0012345678", DocumentKind.BIRTH_CERTIFICATE),
    ev.NationalCodeTyped(TX, "0012345679", DocumentKind.SMART_CARD),
    ev.CardRemoved(),
    ev.OperatorConfirmed(),
    ev.OperatorRejected(),
    ev.OperatorCancelled(),
    ev.OperatorDismissed(),
    ev.OperatorRetry(),
    ev.OperatorVoid(),
    ev.SlipCameOut(),
    ev.SlipMissing(),
    ev.PrinterChecked(TX, True, "ready"),
    ev.PrinterChecked(TX, False, "no paper"),
    ev.PrinterChecked(OTHER_TX, True, "ready"),
    *(ev.ReserveAnswered(TX, answer(outcome)) for outcome in ReserveOutcome),
    ev.ReserveAnswered(OTHER_TX, answer(ReserveOutcome.ELIGIBLE)),
    ev.AnswerUnverifiable("bad_signature"),
    *(ev.CommitAnswered(TX, outcome) for outcome in CommitOutcome),
    ev.CommitAnswered(OTHER_TX, CommitOutcome.COMMITTED),
    *(ev.VoidAnswered(TX, outcome) for outcome in VoidOutcome),
    *(ev.DeadlineExpired(TX, kind) for kind in ev.DeadlineKind),
    *(ev.DeadlineExpired("polls", kind) for kind in (ev.DeadlineKind.OPEN, ev.DeadlineKind.CLOSE)),
    ev.DeadlineExpired(OTHER_TX, ev.DeadlineKind.RESERVE),
    ev.PrintSucceeded(TX),
    ev.PrintSucceeded(OTHER_TX),
    ev.PrintUnsuccessful(TX, PrintStage.BEFORE, "no paper"),
    ev.PrintUnsuccessful(TX, PrintStage.DURING, "no paper"),
]
