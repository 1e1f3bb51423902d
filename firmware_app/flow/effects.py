"""The flow's effects: what the shell must do, in order, journaling each one before its side effect."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from firmware_app.flow.events import DeadlineKind, TxStage
from firmware_app.flow.notices import Notice
from firmware_app.flow.states import PollsPhase, ReportKind
from firmware_app.identity.document import Document
from hal.indicators import Signal
from protocol.messages import CountingInstructions, DocumentKind, MinutesOutcome, OfflineOutcome, VoidReason
from protocol.minutes import MinutesFigures
from protocol.permit import ActivationPath, PermitSecrets


class Counter(enum.StrEnum):
    """The closing report's counts."""

    ISSUED = "issued"
    REPRINTED = "reprinted"
    VOIDED = "voided"
    DUPLICATES_REFUSED = "duplicates_refused"
    INELIGIBLE = "ineligible"
    OPERATOR_REJECTED = "operator_rejected"
    REJECTED_DOCUMENTS = "rejected_documents"
    FACE_OVERRIDES = "face_overrides"
    OFFLINE_ISSUED = "offline_issued"
    """Of the slips issued, those issued OFFLINE under a district permit."""


class AlarmKind(enum.StrEnum):
    """Something an official must look at; audited, and sent to the district once telemetry lands."""

    TAMPER = "tamper"
    CLOCK_OFF = "clock_off"
    FACE_OVERRIDDEN = "face_overridden"
    UNVERIFIABLE_ANSWER = "unverifiable_answer"
    CENTER_REJECTED = "center_rejected"
    COMMIT_DISPUTED = "commit_disputed"
    VOID_AFTER_COMMIT = "void_after_commit"
    JOURNAL_INCONSISTENT = "journal_inconsistent"
    MINUTES_CONFLICT = "minutes_conflict"
    DOUBLE_VOTE_FOUND = "double_vote_found"
    """The center found a voter of one of this terminal's OFFLINE slips holding another slip."""
    OFFLINE_RECORD_REJECTED = "offline_record_rejected"
    OFFLINE_CONFLICT = "offline_conflict"
    OFFLINE_ACTIVATED = "offline_activated"
    """The terminal went offline under a permit (by phone code or broadcast)."""
    PERMIT_CODE_FAILED = "permit_code_failed"
    SNAPSHOT_HIT_ALLOWED = "snapshot_hit_allowed"


@dataclass(frozen=True)
class RunSelfTest:
    """Check every device; the answer comes back as SelfTestFinished."""


@dataclass(frozen=True)
class PrintReport:
    """Print the zero report or the closing report; the result comes back as ReportPrinted/NotPrinted."""

    kind: ReportKind


@dataclass(frozen=True)
class RecordExtension:
    """Journal the new closing time the center broadcast, and close then."""

    until: datetime


@dataclass(frozen=True)
class RecordBranchCommitted:
    """Journal the slips the center holds committed for the branch, as it acknowledged the closing."""

    count: int


@dataclass(frozen=True)
class RecordInstructions:
    """Journal the district's newest counting instructions (they are shown again after a restart)."""

    instructions: CountingInstructions


@dataclass(frozen=True)
class RecordMinutes:
    """Journal the minutes the two officials agreed on: the runtime makes the document of them (the checks against
    the journal's slips issued and the center's committed count, the terminal's time, the bundle's hash)."""

    figures: MinutesFigures
    officials: tuple[str, str]


@dataclass(frozen=True)
class PrintMinutes:
    """Print the journaled minutes (REPRINT-marked on a reprint); the result comes back as ReportPrinted/NotPrinted."""

    reprint: bool


@dataclass(frozen=True)
class SendMinutes:
    """Journal the signed request of the journaled minutes in the outbox, then publish (re-sent until answered)."""


@dataclass(frozen=True)
class RecordMinutesAnswer:
    """Journal the district's answer to the minutes: they are not sent again."""

    outcome: MinutesOutcome


@dataclass(frozen=True)
class ReadCard:
    """Read and authenticate the card in the reader; the answer comes back as DocumentPresented/Unacceptable."""


@dataclass(frozen=True)
class CheckFace:
    """Compare the live camera image with the card photo; the answer comes back as FaceChecked."""

    tx_id: str
    photo: bytes = field(repr=False)


@dataclass(frozen=True)
class CheckPrinter:
    """Ask the printer whether it can print; the answer comes back as PrinterChecked."""

    tx_id: str


@dataclass(frozen=True)
class SendReserve:
    """Journal the transaction and its sealed reserve in the outbox, then publish."""

    tx_id: str
    document: Document


@dataclass(frozen=True)
class ResendReserve:
    tx_id: str


@dataclass(frozen=True)
class SendCommit:
    tx_id: str
    inquiry_code: str


@dataclass(frozen=True)
class SendVoid:
    tx_id: str
    reason: VoidReason


@dataclass(frozen=True)
class SendOpen:
    pass


@dataclass(frozen=True)
class SendClose:
    pass


@dataclass(frozen=True)
class RecordStage:
    """Journal a transaction stage that permits nothing by itself (an answer, a print result)."""

    tx_id: str
    stage: TxStage
    inquiry_code: str | None = None
    paper_moved: bool = False


@dataclass(frozen=True)
class RecordPermit:
    """Keep a permit that came (its signed bytes) before it can be activated."""

    permit_id: str
    signed: bytes = field(repr=False)


@dataclass(frozen=True)
class RecordPermitActivation:
    """An activation of the permit is spent and in use from now on."""

    permit_id: str
    activation: int
    path: ActivationPath


@dataclass(frozen=True)
class RecordPermitCodeFailed:
    """A wrong phone code for the permit, counted towards its lock-out."""

    permit_id: str


@dataclass(frozen=True)
class RecordPermitEnd:
    permit_id: str
    ended_at: datetime


@dataclass(frozen=True)
class RecordPermitStoodDown:
    """The terminal is back on the live check: the permit's activation in use is over."""

    permit_id: str


@dataclass(frozen=True)
class CheckOffline:
    """Check the voter against this terminal's slips, the OFFLINE slips the permit's other terminals told of, and
    the snapshot (tags under the permit's snapshot key); the answer is OfflineChecked."""

    tx_id: str
    document: Document = field(repr=False)
    permit_id: str
    secrets: PermitSecrets = field(repr=False)


@dataclass(frozen=True)
class RecordOfflineIssue:
    """Journal the OFFLINE slip's signed issue record (the national code sealed to the center) before its print."""

    tx_id: str
    document: Document = field(repr=False)
    permit_id: str
    activation: int
    sequence: int
    offline_code: str
    snapshot_version: int
    snapshot_hit: bool
    at: datetime
    secrets: PermitSecrets = field(repr=False)
    """The permit's: the line that tells its other terminals of the slip is made with them, beside the record."""


@dataclass(frozen=True)
class SendOfflineIssue:
    """The OFFLINE slip is out: its record goes to the center through the outbox, replayed until answered."""

    tx_id: str


@dataclass(frozen=True)
class TellPeers:
    """The OFFLINE slip is out: the permit's other terminals are told (the line journaled with its record)."""

    tx_id: str


@dataclass(frozen=True)
class RecordReconciled:
    """The center's record of a replayed OFFLINE slip: the journal keeps the outcome with the slip."""

    tx_id: str
    outcome: OfflineOutcome


@dataclass(frozen=True)
class PrintSlip:
    """Journal the print intent, then print the slip for this inquiry code."""

    tx_id: str
    inquiry_code: str
    document: DocumentKind
    reprint: bool
    offline: bool = False
    """An OFFLINE slip: `inquiry_code` is its offline code, and the slip says OFFLINE."""


@dataclass(frozen=True)
class SetPolls:
    phase: PollsPhase


@dataclass(frozen=True)
class StartDeadline:
    """Start the one deadline (replacing any running); when it passes, DeadlineExpired comes back."""

    tx_id: str
    kind: DeadlineKind


@dataclass(frozen=True)
class CancelDeadline:
    """The awaited answer came: the running deadline is no longer needed."""


@dataclass(frozen=True)
class Count:
    counter: Counter


@dataclass(frozen=True)
class Show:
    """A notice for the operator (`texts.render` gives its Persian)."""

    notice: Notice


@dataclass(frozen=True)
class Indicate:
    signal: Signal


@dataclass(frozen=True)
class Alarm:
    """Something an official must look at; `detail` is technical (a transaction id, a reason code)."""

    kind: AlarmKind
    detail: str = ""


Effect = (
    RunSelfTest
    | ReadCard
    | CancelDeadline
    | PrintReport
    | RecordExtension
    | RecordBranchCommitted
    | RecordInstructions
    | RecordMinutes
    | PrintMinutes
    | SendMinutes
    | RecordMinutesAnswer
    | CheckFace
    | CheckPrinter
    | SendReserve
    | ResendReserve
    | SendCommit
    | SendVoid
    | SendOpen
    | SendClose
    | RecordStage
    | RecordReconciled
    | RecordPermit
    | RecordPermitActivation
    | RecordPermitCodeFailed
    | RecordPermitEnd
    | RecordPermitStoodDown
    | CheckOffline
    | RecordOfflineIssue
    | SendOfflineIssue
    | TellPeers
    | PrintSlip
    | SetPolls
    | StartDeadline
    | Count
    | Show
    | Indicate
    | Alarm
)
