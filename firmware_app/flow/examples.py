"""Example states and events: every state and event type, with the variants whose fields the flow looks at.

The diagram in docs/flow.md is drawn by walking every example state with every example event, and the tests
walk the same pairs; so a variant that matters to a decision belongs here."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from firmware_app.flow import events as ev
from firmware_app.flow import states as st
from firmware_app.flow.double_entry import MinutesEntry
from firmware_app.flow.notices import Component, DocumentRefused, Finding, Say
from firmware_app.flow.permits import HeldPermit
from firmware_app.identity.document import Document, DocumentProblem, DocumentRefusal
from firmware_app.identity.verdict import FaceProblem
from hal.buttons import ButtonEvent
from hal.printer import PrinterState, PrinterStatus, PrintStage
from protocol.messages import (
    CommitOutcome,
    CountingInstructions,
    DocumentKind,
    IneligibleReason,
    MinutesOutcome,
    OfflineOutcome,
    ReserveAnswer,
    ReserveOutcome,
    VoidOutcome,
)
from protocol.minutes import (
    Candidate,
    CandidateVotes,
    CountKind,
    Election,
    ElectionBundle,
    ElectionCount,
    MinutesFigures,
)
from protocol.national_code import NationalCode
from protocol.offline_code import offline_code
from protocol.permit import (
    Activated,
    ActivationPath,
    Permit,
    PermitActivation,
    PermitEnd,
    PermitSecrets,
    SealedPermitSecrets,
    TerminalIdentity,
    activation_code,
)

TX = "a" * 32
OTHER_TX = "b" * 32
CODE = "123456784"
AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
ELECTION = ElectionBundle("D01", (Election("PRES", "ریاست جمهوری", CountKind.ONE_NAME, 1,
                                           (Candidate("P1", "نامزد یکم"), Candidate("P2", "نامزد دوم"))),))
DAY = st.PollsDay(AT.replace(hour=4, minute=30), AT.replace(hour=14, minute=30), AT.replace(hour=22, minute=30),
                  election=ELECTION)
"""08:00 to 18:00 in Tehran, extendable to 02:00; one election."""
INSTRUCTIONS = CountingInstructions("D01", "شیوه‌نامه شمارش", "آرا را دو بار بشمارید.", AT.replace(hour=14))
LATER_INSTRUCTIONS = dataclasses.replace(INSTRUCTIONS, text="آرای باطل را جدا کنید.", issued_at=AT.replace(hour=15))
INSTRUCTED_DAY = dataclasses.replace(DAY, instructions=INSTRUCTIONS)
BARE_DAY = dataclasses.replace(DAY, election=None)
"""A terminal provisioned without an election bundle: no minutes."""


def counted(p1: int, p2: int = 35) -> MinutesFigures:
    """Minutes of ELECTION: 100 ballots in the box, 5 invalid, the candidates' votes as given."""
    votes = (CandidateVotes("P1", p1), CandidateVotes("P2", p2))
    return MinutesFigures(("S-1",), (ElectionCount("PRES", 200, 100, 0, 100, 100, 5, votes),))


FIGURES = counted(60)
TYPO = counted(61)
"""One official's slip of the pen on the first candidate's votes."""
UNFIT = MinutesFigures((), FIGURES.counts)
"""No seal number: not minutes of any bundle."""
CARD = Document(DocumentKind.SMART_CARD, NationalCode("0012345679"), "علی", "رضایی", photo=b"\xff\xd8jpeg")
TYPED = Document(DocumentKind.BIRTH_CERTIFICATE, NationalCode("0012345679"))
SMART_TX = st.Tx(TX, DocumentKind.SMART_CARD)
RECOVERED_TX = st.Tx(TX, DocumentKind.SMART_CARD, recovered=True)
READY = PrinterStatus(PrinterState.READY)
NO_PAPER = PrinterStatus(PrinterState.NO_PAPER, "paper end")


ME = TerminalIdentity("T-0101", "B-0101", "D01")
PERMIT = Permit("c" * 32, "D01", "B-0101", ("T-0101", "T-0102"), AT.replace(hour=4, minute=30),
                AT.replace(hour=20), 2, 3, tuple(ActivationPath),
                (SealedPermitSecrets("T-0101", "sealed"), SealedPermitSecrets("T-0102", "sealed")), AT.replace(hour=1))
"""A permit for this terminal and its neighbour, 08:00 to 23:30 in Tehran, two OFFLINE slips, three activations."""
SECRETS = PermitSecrets(bytes(range(32)), bytes(range(32, 64)))
HELD = HeldPermit(PERMIT, SECRETS, ME)
FOREIGN = HeldPermit(dataclasses.replace(PERMIT, permit_id="d" * 32, branch="B-0999"), SECRETS, ME)
PERMIT_DAY = dataclasses.replace(DAY, permits=(HELD,))
"""A permit held, not activated."""
OFFLINE_DAY = dataclasses.replace(DAY, permits=(HELD.activated(Activated(1, ActivationPath.PHONE_CODE)),))
"""Offline under the permit's first activation, no slip issued yet."""
FULL_DAY = dataclasses.replace(DAY, permits=(HELD.activated(Activated(1, ActivationPath.PHONE_CODE)).slip_issued()
                                             .slip_issued(),))
"""Offline, the permit's two slips issued."""
PHONE_CODE = activation_code(SECRETS.activation_key, PERMIT.permit_id, 1)
WRONG_CODE = "123456784"
"""Nine digits with a valid check digit, not the permit's code."""
OFFLINE_CODE = offline_code(SECRETS.activation_key, PERMIT.permit_id, ME.terminal, 1, 1)
OFFLINE_TX = st.Tx(TX, DocumentKind.SMART_CARD, offline=True)
RECOVERED_OFFLINE_TX = st.Tx(TX, DocumentKind.SMART_CARD, recovered=True, offline=True)


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
    st.PollsNotOpen(day=DAY),
    st.SelfTesting(day=DAY),
    st.PrintingZeroReport(day=DAY),
    st.Opening(day=DAY),
    st.PollsSuspended(day=DAY),
    st.Closing(day=DAY),
    st.PollsClosed(day=DAY),
    st.PollsClosed(day=BARE_DAY),
    st.EnteringMinutes(day=DAY),
    st.EnteringMinutes(MinutesEntry("head", FIGURES), day=DAY),
    st.EnteringMinutes(None, ("counts.PRES.votes.P1",), day=INSTRUCTED_DAY),
    st.SendingMinutes(day=DAY),
    st.SendingMinutes(pending=True, day=DAY),
    st.MinutesSent(day=INSTRUCTED_DAY),
    st.MinutesConflict(day=DAY),
    st.Idle(day=DAY),
    st.Idle(day=PERMIT_DAY),
    st.Idle(day=OFFLINE_DAY),
    st.Idle(day=FULL_DAY),
    st.CheckingPrinter(TX, CARD, day=OFFLINE_DAY),
    st.CheckingOffline(TX, CARD, day=OFFLINE_DAY),
    st.CheckingOffline(TX, CARD, day=FULL_DAY),
    st.CheckingOffline(TX, CARD, day=PERMIT_DAY),
    st.SnapshotHit(TX, CARD, 7, day=OFFLINE_DAY),
    st.OfflineRefused(TX, Say.OFFLINE_ALREADY_ISSUED, day=OFFLINE_DAY),
    st.Printing(OFFLINE_TX, OFFLINE_CODE, reprint=False, day=OFFLINE_DAY),
    st.PrintInterrupted(OFFLINE_TX, OFFLINE_CODE, PrintStage.DURING, NO_PAPER, reprint=True, day=OFFLINE_DAY),
    st.RecoveryDecision(RECOVERED_OFFLINE_TX, OFFLINE_CODE, st.RecoveryQuestion.DID_SLIP_COME_OUT, reprint=True,
                        day=OFFLINE_DAY),
    st.DocumentRejected(DocumentRefused(DocumentProblem.SIGNATURE_INVALID), day=DAY),
    *(st.AwaitingConfirmation(TX, CARD, verdict, day=DAY) for verdict in st.FaceVerdict),
    st.AwaitingConfirmation(TX, TYPED, st.FaceVerdict.UNAVAILABLE, None, FaceProblem.NO_PHOTO, day=DAY),
    st.CheckingPrinter(TX, CARD, day=DAY),
    st.CheckingPrinter(TX, TYPED, day=DAY),
    st.PrinterNotReady(TX, CARD, NO_PAPER, day=DAY),
    st.Reserving(SMART_TX, day=DAY),
    st.Reserving(RECOVERED_TX, day=DAY),
    st.NoAnswer(SMART_TX, st.NoAnswerReason.TIMED_OUT, day=DAY),
    st.NoAnswer(SMART_TX, st.NoAnswerReason.UNVERIFIABLE, day=DAY),
    st.NoAnswer(RECOVERED_TX, st.NoAnswerReason.TIMED_OUT, day=DAY),
    st.AnsweredLate(SMART_TX, CODE, day=DAY),
    st.AnsweredLate(RECOVERED_TX, CODE, day=DAY),
    st.VoterRefused(SMART_TX, ReserveOutcome.DUPLICATE, Say.TX_VOIDED, day=DAY),
    st.Printing(SMART_TX, CODE, reprint=False, day=DAY),
    st.Printing(SMART_TX, CODE, reprint=True, day=DAY),
    st.PrintInterrupted(SMART_TX, CODE, PrintStage.BEFORE, NO_PAPER, reprint=False, day=DAY),
    st.PrintInterrupted(SMART_TX, CODE, PrintStage.DURING, NO_PAPER, reprint=True, day=DAY),
    st.Committing(SMART_TX, CODE, day=DAY),
    st.RecoveryDecision(RECOVERED_TX, CODE, st.RecoveryQuestion.PRINT_OR_VOID, reprint=False, day=DAY),
    st.RecoveryDecision(RECOVERED_TX, CODE, st.RecoveryQuestion.DID_SLIP_COME_OUT, reprint=True, day=DAY),
]

EVENTS: list[ev.Event] = [
    *(ev.JournalLoaded(phase, None, DAY) for phase in st.PollsPhase),
    *(ev.JournalLoaded(st.PollsPhase.CLOSED, None, DAY, stage) for stage in ev.MinutesStage),
    *(ev.JournalLoaded(st.PollsPhase.OPEN, ev.OpenTx(TX, DocumentKind.SMART_CARD, stage, CODE, False), DAY)
      for stage in ev.TxStage),
    ev.OpenPollsRequested(AT),
    ev.OpenPollsRequested(AT.replace(hour=3)),
    ev.SelfTestFinished(()),
    ev.SelfTestFinished((), (Finding(Component.CAMERA, "not_found"),)),
    ev.SelfTestFinished((Finding(Component.PRINTER, "no_paper"),)),
    *(ev.ReportPrinted(kind) for kind in st.ReportKind),
    *(ev.ReportNotPrinted(kind, NO_PAPER) for kind in st.ReportKind),
    ev.ReprintClosingReport(),
    ev.ClosingExtended(DAY.closes_at + timedelta(hours=2)),
    ev.ClosingExtended(DAY.closes_at - timedelta(hours=1)),
    ev.ClosingExtended(DAY.latest_close + timedelta(minutes=1)),
    ev.ClockTicked(AT),
    ev.ClockTicked(DAY.closes_at),
    ev.TamperDetected(),
    *(ev.ButtonPressed(button, AT) for button in ButtonEvent),
    ev.ButtonPressed(ButtonEvent.CONFIRM, AT.replace(hour=3)),
    *(ev.FaceChecked(TX, verdict, 0.4) for verdict in st.FaceVerdict),
    ev.FaceChecked(TX, st.FaceVerdict.UNAVAILABLE, None, FaceProblem.NO_FACE),
    ev.FaceChecked(OTHER_TX, st.FaceVerdict.MATCH, 0.3),
    ev.OperatorOverrode(ev.OverrideReason.PHOTO_OUTDATED),
    ev.OpenAcknowledged(AT, AT + timedelta(seconds=3)),
    ev.OpenAcknowledged(AT, AT + timedelta(minutes=10)),
    ev.OpenAcknowledged(AT, AT - timedelta(minutes=3)),
    ev.SuspendRequested(),
    ev.ResumeRequested(),
    ev.ClosePollsRequested(AT),
    ev.ClosePollsRequested(DAY.closes_at + timedelta(minutes=1)),
    ev.CloseAcknowledged(120),
    ev.InstructionsReceived(INSTRUCTIONS),
    ev.InstructionsReceived(LATER_INSTRUCTIONS),
    ev.MinutesEntered("head", FIGURES),
    ev.MinutesEntered("operator", FIGURES),
    ev.MinutesEntered("operator", TYPO),
    ev.MinutesEntered("operator", UNFIT),
    ev.MinutesEntered("Not An Official", FIGURES),
    *(ev.MinutesAnswered(outcome) for outcome in MinutesOutcome),
    ev.ReprintMinutes(),
    ev.CardInserted(),
    ev.DocumentPresented(TX, CARD),
    ev.DocumentPresented(TX, Document(DocumentKind.SMART_CARD, NationalCode("0012345679"))),
    ev.DocumentUnacceptable(DocumentRefusal(DocumentProblem.SIGNATURE_INVALID)),
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
    ev.PrinterChecked(TX, READY),
    ev.PrinterChecked(TX, NO_PAPER),
    ev.PrinterChecked(OTHER_TX, READY),
    *(ev.ReserveAnswered(TX, answer(outcome)) for outcome in ReserveOutcome),
    ev.ReserveAnswered(OTHER_TX, answer(ReserveOutcome.ELIGIBLE)),
    ev.AnswerUnverifiable("bad_signature"),
    *(ev.CommitAnswered(TX, outcome) for outcome in CommitOutcome),
    ev.CommitAnswered(OTHER_TX, CommitOutcome.COMMITTED),
    *(ev.VoidAnswered(TX, outcome) for outcome in VoidOutcome),
    *(ev.OfflineIssueAnswered(TX, outcome, "01000173158") for outcome in OfflineOutcome),
    ev.PermitReceived(HELD, b"signed permit"),
    ev.PermitReceived(FOREIGN, b"signed permit"),
    ev.PermitCodeTyped("head", PHONE_CODE, AT),
    ev.PermitCodeTyped("head", WRONG_CODE, AT),
    ev.PermitCodeTyped("head", "123-456-789", AT),
    ev.PermitActivationReceived(PermitActivation(PERMIT.permit_id, "D01", "B-0101", 2, AT, AT.replace(minute=15)),
                                AT),
    ev.PermitActivationReceived(PermitActivation(PERMIT.permit_id, "D01", "B-0101", 2, AT.replace(hour=6),
                                                 AT.replace(hour=6, minute=15)), AT),
    ev.PermitActivationAccepted("operator+head", AT),
    ev.PermitEndReceived(PermitEnd(PERMIT.permit_id, "D01", "B-0101", AT, AT)),
    *(ev.OfflineChecked(TX, verdict, 7, AT) for verdict in ev.OfflineVerdict),
    ev.OfflineChecked(TX, ev.OfflineVerdict.CLEAR, 7, AT.replace(hour=21)),
    ev.OfflineChecked(OTHER_TX, ev.OfflineVerdict.CLEAR, 7, AT),
    ev.OfflineHitAllowed(AT),
    *(ev.DeadlineExpired(TX, kind) for kind in ev.DeadlineKind),
    *(ev.DeadlineExpired("polls", kind) for kind in (ev.DeadlineKind.OPEN, ev.DeadlineKind.CLOSE)),
    ev.DeadlineExpired("minutes", ev.DeadlineKind.MINUTES),
    ev.DeadlineExpired(OTHER_TX, ev.DeadlineKind.RESERVE),
    ev.PrintSucceeded(TX),
    ev.PrintSucceeded(OTHER_TX),
    ev.PrintUnsuccessful(TX, PrintStage.BEFORE, NO_PAPER),
    ev.PrintUnsuccessful(TX, PrintStage.DURING, NO_PAPER),
]
