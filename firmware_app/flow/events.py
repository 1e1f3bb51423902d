"""The flow's events: everything that can happen to the terminal, as data."""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from firmware_app.flow.notices import Finding
from firmware_app.flow.permits import HeldPermit
from firmware_app.flow.states import PollsDay, PollsPhase, ReportKind
from firmware_app.identity.document import Document, DocumentRefusal
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from hal.buttons import ButtonEvent
from hal.printer import PrinterStatus, PrintStage
from protocol.messages import (
    CommitOutcome,
    CountingInstructions,
    DocumentKind,
    MinutesOutcome,
    OfflineOutcome,
    ReserveAnswer,
    VoidOutcome,
)
from protocol.minutes import MinutesFigures
from protocol.permit import PermitActivation, PermitEnd


class TxStage(enum.StrEnum):
    """A transaction's stage in the journal; the last four are closed."""

    RESERVE_PENDING = "reserve_pending"
    ELIGIBLE = "eligible"
    PRINTING = "printing"
    PRINT_FAILED = "print_failed"
    COMMIT_PENDING = "commit_pending"
    VOID_PENDING = "void_pending"
    ISSUED = "issued"
    VOIDED = "voided"
    REFUSED = "refused"
    DISPUTED = "disputed"


CLOCK_TOLERANCE = timedelta(seconds=120)
"""How far the terminal's clock may be from the center's when the polls open."""

CLOSED_STAGES = frozenset({TxStage.ISSUED, TxStage.VOIDED, TxStage.REFUSED, TxStage.DISPUTED})
BACKGROUND_STAGES = frozenset({TxStage.COMMIT_PENDING, TxStage.VOID_PENDING})


class DeadlineKind(enum.StrEnum):
    RESERVE = "reserve"
    COMMIT = "commit"
    OPEN = "open"
    CLOSE = "close"
    MINUTES = "minutes"


class MinutesStage(enum.StrEnum):
    """Where the journal's minutes are: sent and not yet answered, or what the district answered."""

    SENT = "sent"
    RECORDED = "recorded"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class OpenTx:
    """A foreground transaction the journal holds open at start-up."""

    tx_id: str
    document: DocumentKind
    stage: TxStage
    inquiry_code: str | None
    reprint: bool
    offline: bool = False
    """An OFFLINE slip's transaction (`inquiry_code` is its offline code)."""


@dataclass(frozen=True)
class JournalLoaded:
    """What the journal holds at start-up: the polls' phase, an open foreground transaction, the day (hours,
    elections, instructions), and once the polls are closed, where the minutes are (None: not recorded yet)."""

    polls: PollsPhase
    current: OpenTx | None
    day: PollsDay
    minutes: MinutesStage | None = None


@dataclass(frozen=True)
class OpenPollsRequested:
    """The operator asks to open; the flow refuses before the day's opening hour."""

    at: datetime


@dataclass(frozen=True)
class SelfTestFinished:
    """What the self-test found: problems stop the opening; warnings are shown and logged."""

    problems: tuple[Finding, ...]
    warnings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ReportPrinted:
    kind: ReportKind


@dataclass(frozen=True)
class ReportNotPrinted:
    kind: ReportKind
    status: PrinterStatus


@dataclass(frozen=True)
class ReprintClosingReport:
    pass


@dataclass(frozen=True)
class ClosingExtended:
    """The center's signed broadcast moved the closing time later."""

    until: datetime


@dataclass(frozen=True)
class ClockTicked:
    """The loop's periodic tick with the terminal's time: the flow closes the polls when their hour has come."""

    at: datetime


@dataclass(frozen=True)
class TamperDetected:
    pass


@dataclass(frozen=True)
class ButtonPressed:
    """A panel button; what it means depends on the state (`flow.buttons`)."""

    button: ButtonEvent
    at: datetime


@dataclass(frozen=True)
class OpenAcknowledged:
    """The center acknowledged the opening: its time in the answer, the terminal's when the answer arrived."""

    center_time: datetime
    local_time: datetime
    tolerance: timedelta = CLOCK_TOLERANCE


@dataclass(frozen=True)
class SuspendRequested:
    pass


@dataclass(frozen=True)
class ResumeRequested:
    pass


@dataclass(frozen=True)
class ClosePollsRequested:
    """The operator asks to close; the flow refuses before the closing time (as extended)."""

    at: datetime


@dataclass(frozen=True)
class CloseAcknowledged:
    """The center acknowledged the closing, with the slips it holds committed for the whole branch: the minutes'
    check of the box against the center's count (not made while the closing is unacknowledged)."""

    branch_committed: int


@dataclass(frozen=True)
class InstructionsReceived:
    """The district's counting instructions, verified (signature, district) by the runtime; the flow keeps the
    newest."""

    instructions: CountingInstructions


@dataclass(frozen=True)
class MinutesEntered:
    """One official's whole entry of the minutes (the screen's form, or the CLI and tests): `official` is who
    signed in for it."""

    official: str
    figures: MinutesFigures


@dataclass(frozen=True)
class MinutesAnswered:
    """The district's verified answer to the minutes request; the runtime has matched its hash to the journaled
    minutes."""

    outcome: MinutesOutcome


@dataclass(frozen=True)
class ReprintMinutes:
    """Print the recorded minutes again, marked REPRINT."""


@dataclass(frozen=True)
class DocumentPresented:
    """An authenticated document was read from the card; `tx_id` is fresh for this voter."""

    tx_id: str
    document: Document


@dataclass(frozen=True)
class CardInserted:
    """A card went into the reader; only an idle terminal reads it."""


@dataclass(frozen=True)
class DocumentUnacceptable:
    refusal: DocumentRefusal


@dataclass(frozen=True)
class NationalCodeTyped:
    tx_id: str
    text: str
    document: DocumentKind


@dataclass(frozen=True)
class CardRemoved:
    pass


@dataclass(frozen=True)
class OperatorConfirmed:
    """The person in front of the terminal is the person on the document."""


@dataclass(frozen=True)
class FaceChecked:
    """The face check's result for this transaction: a verdict and a score, never an image."""

    tx_id: str
    verdict: FaceVerdict
    distance: float | None
    problem: FaceProblem | None = None


class OverrideReason(enum.StrEnum):
    """Why two officials confirm a person the face check did not match: one of a fixed few, never free text."""

    PHOTO_OUTDATED = "photo_outdated"
    APPEARANCE_CHANGED = "appearance_changed"
    CAMERA_CONDITIONS = "camera_conditions"
    IDENTITY_CONFIRMED_OTHERWISE = "identity_confirmed_otherwise"


@dataclass(frozen=True)
class OperatorOverrode:
    """The operator and the head of branch confirm the person although the face check said NO_MATCH, for
    `reason` (logged, counted and raised as an alarm)."""

    reason: OverrideReason


@dataclass(frozen=True)
class OperatorRejected:
    """The person does not match the document."""


@dataclass(frozen=True)
class OperatorCancelled:
    pass


@dataclass(frozen=True)
class OperatorDismissed:
    """The operator has read the message on screen."""


@dataclass(frozen=True)
class OperatorRetry:
    """Try again: re-send the reserve, or print (again) after fixing the printer."""


@dataclass(frozen=True)
class OperatorVoid:
    """Give up this transaction: the center frees the voter."""


@dataclass(frozen=True)
class SlipCameOut:
    """After a restart: the operator saw the slip come out whole."""


@dataclass(frozen=True)
class SlipMissing:
    """After a restart: no whole slip came out."""


@dataclass(frozen=True)
class PrinterChecked:
    """The printer's status, asked for just before a reserve."""

    tx_id: str
    status: PrinterStatus


@dataclass(frozen=True)
class ReserveAnswered:
    """A verified answer from the center, already matched to a request of ours."""

    tx_id: str
    answer: ReserveAnswer


@dataclass(frozen=True)
class AnswerUnverifiable:
    """Something arrived on our answer topic that failed verification; `reason` is technical, for the audit."""

    reason: str


@dataclass(frozen=True)
class CommitAnswered:
    tx_id: str
    outcome: CommitOutcome


@dataclass(frozen=True)
class VoidAnswered:
    tx_id: str
    outcome: VoidOutcome


class OfflineVerdict(enum.StrEnum):
    """What the terminal's own check of a voter found before an OFFLINE slip."""

    CLEAR = "clear"
    ISSUED_HERE = "issued_here"
    """The journal holds a slip (or one under way) of this voter from this terminal today."""
    ISSUED_AT_BRANCH = "issued_at_branch"
    """Another terminal of the permit told of an OFFLINE slip of this voter (protocol.peer_slip)."""
    SNAPSHOT_HIT = "snapshot_hit"
    """The "already voted" snapshot holds the voter's tag: they may have voted elsewhere."""


@dataclass(frozen=True)
class PermitReceived:
    """A permit came (provisioned, or delivered by the district): verified with the district's key and its
    secrets opened with this terminal's permit key; `signed` is what the journal keeps."""

    held: HeldPermit
    signed: bytes = field(repr=False)


@dataclass(frozen=True)
class PermitCodeTyped:
    """The head of branch typed the phone code the district read out (signed in for it: `official`)."""

    official: str
    text: str
    at: datetime


@dataclass(frozen=True)
class PermitActivationAccepted:
    """The head of branch takes the district's broadcast activation (signed in for it: `official`)."""

    official: str
    at: datetime


@dataclass(frozen=True)
class PermitActivationReceived:
    """The district's signed broadcast activation of a permit (verified with the district's key)."""

    activation: PermitActivation
    at: datetime


@dataclass(frozen=True)
class PermitEndReceived:
    """The district's signed end of a permit (verified with the district's key)."""

    end: PermitEnd


@dataclass(frozen=True)
class OfflineChecked:
    """The terminal's check of the voter of `tx_id` against its own slips and the snapshot it holds
    (`snapshot_version`, 0: none), at `at`."""

    tx_id: str
    verdict: OfflineVerdict
    snapshot_version: int
    at: datetime


@dataclass(frozen=True)
class OfflineHitAllowed:
    """The head of branch lets an OFFLINE slip go although the snapshot holds the voter (logged and alarmed)."""

    at: datetime


@dataclass(frozen=True)
class OfflineIssueAnswered:
    """How the center recorded a replayed OFFLINE slip of this terminal (its transaction, the slip's offline
    code)."""

    tx_id: str
    outcome: OfflineOutcome
    offline_code: str | None


@dataclass(frozen=True)
class DeadlineExpired:
    tx_id: str
    kind: DeadlineKind


@dataclass(frozen=True)
class PrintSucceeded:
    tx_id: str


@dataclass(frozen=True)
class PrintUnsuccessful:
    tx_id: str
    stage: PrintStage
    status: PrinterStatus


Event = (
    JournalLoaded
    | OpenPollsRequested
    | SelfTestFinished
    | ReportPrinted
    | ReportNotPrinted
    | ReprintClosingReport
    | ClosingExtended
    | ClockTicked
    | TamperDetected
    | ButtonPressed
    | FaceChecked
    | OperatorOverrode
    | OpenAcknowledged
    | SuspendRequested
    | ResumeRequested
    | ClosePollsRequested
    | CloseAcknowledged
    | InstructionsReceived
    | MinutesEntered
    | MinutesAnswered
    | ReprintMinutes
    | CardInserted
    | DocumentPresented
    | DocumentUnacceptable
    | NationalCodeTyped
    | CardRemoved
    | OperatorConfirmed
    | OperatorRejected
    | OperatorCancelled
    | OperatorDismissed
    | OperatorRetry
    | OperatorVoid
    | SlipCameOut
    | SlipMissing
    | PrinterChecked
    | ReserveAnswered
    | AnswerUnverifiable
    | CommitAnswered
    | VoidAnswered
    | OfflineIssueAnswered
    | PermitReceived
    | PermitCodeTyped
    | PermitActivationReceived
    | PermitActivationAccepted
    | PermitEndReceived
    | OfflineChecked
    | OfflineHitAllowed
    | DeadlineExpired
    | PrintSucceeded
    | PrintUnsuccessful
)

ALL_EVENTS: tuple[type[Event], ...] = typing.get_args(Event)
