"""The flow's states: where the terminal is, the polling day it holds, the one open transaction in memory, and
the minutes after the polls close."""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass, field
from datetime import datetime

from firmware_app.flow.double_entry import MinutesEntry
from firmware_app.flow.notices import DocumentRefused, Notice
from firmware_app.flow.permits import HeldPermit
from firmware_app.identity.document import Document
from firmware_app.identity.verdict import FaceProblem
from firmware_app.identity.verdict import FaceVerdict as FaceVerdict  # noqa: PLC0414 (re-exported: a flow value)
from hal.printer import PrinterStatus, PrintStage
from protocol.messages import CountingInstructions, DocumentKind, ReserveOutcome
from protocol.minutes import ElectionBundle


class PollsPhase(enum.StrEnum):
    """The polls' phase as the journal keeps it."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class RecoveryQuestion(enum.StrEnum):
    """What the operator is asked about a transaction found open after a restart."""

    PRINT_OR_VOID = "print_or_void"
    DID_SLIP_COME_OUT = "did_slip_come_out"


class ReportKind(enum.StrEnum):
    ZERO = "zero"
    CLOSING = "closing"
    MINUTES = "minutes"


class NoAnswerReason(enum.StrEnum):
    TIMED_OUT = "timed_out"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class PollsDay:
    """The day as the flow holds it: the set opening, the closing as extended so far, and the latest closing an
    extension may set (the set closing plus the longest extension the rules allow); the elections the branch
    counts for (the district's signed bundle, None where none was provisioned) and the newest counting
    instructions the district sent."""

    opens_at: datetime
    closes_at: datetime
    latest_close: datetime
    election: ElectionBundle | None = field(default=None, kw_only=True, repr=False)
    instructions: CountingInstructions | None = field(default=None, kw_only=True, repr=False)
    permits: tuple[HeldPermit, ...] = field(default=(), kw_only=True, repr=False)
    """The district's offline permits the terminal holds (flow.permits); at most one in use at a time."""


@dataclass(frozen=True)
class Tx:
    """One voter's transaction: its id (chosen by the terminal) and the kind of document shown."""

    tx_id: str
    document: DocumentKind
    recovered: bool = field(default=False, kw_only=True)
    offline: bool = field(default=False, kw_only=True)
    """An OFFLINE slip under a permit: its code is the offline code, its settlement the replay to the center."""


@dataclass(frozen=True)
class Starting:
    """Before the journal has been read: the flow does not know the day yet."""


# --- the polls -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollsNotOpen:
    notice: Notice | None = None
    """Why an opening did not go through, if one was tried."""
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class SelfTesting:
    """Opening: every device is being checked."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class PrintingZeroReport:
    """Opening: the self-test passed; the zero report is printing."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class Opening:
    """The open report went to the center; waiting for its acknowledgement."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class PollsSuspended:
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class Closing:
    """The close report went to the center; waiting for its acknowledgement."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class PollsClosed:
    day: PollsDay = field(kw_only=True)


# --- the minutes, after the polls close --------------------------------------------------------------


@dataclass(frozen=True)
class EnteringMinutes:
    """The officials enter the minutes, each the whole of them: `first` is the entry held until another
    official's comes (never shown); `mismatch` names the fields on which the last two entries differed (both
    were discarded)."""

    first: MinutesEntry | None = None
    mismatch: tuple[str, ...] = ()
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class SendingMinutes:
    """The agreed minutes are journaled, printed and sent; waiting for the district's acknowledgement.
    `pending`: its deadline passed, and the journaled request goes out again until the district answers."""

    pending: bool = False
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class MinutesSent:
    """The district recorded these minutes as the branch's: the terminal's work of the day is done."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class MinutesConflict:
    """The district already holds other minutes of this terminal: both are kept, and the district settles it."""

    day: PollsDay = field(kw_only=True)


# --- a voter ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Idle:
    """Polls open, no voter."""

    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class DocumentRejected:
    refused: DocumentRefused
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class AwaitingConfirmation:
    """The operator compares the person with the document."""

    tx_id: str
    document: Document
    face: FaceVerdict = FaceVerdict.PENDING
    distance: float | None = None
    face_problem: FaceProblem | None = None
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class CheckingPrinter:
    """Confirmed; before the center is asked, the printer must be able to print (no reservation wasted)."""

    tx_id: str
    document: Document
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class PrinterNotReady:
    """The printer cannot print; nothing was asked of the center. The operator fixes it and retries."""

    tx_id: str
    document: Document
    status: PrinterStatus
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class CheckingOffline:
    """Confirmed, the printer ready, and the terminal offline under a permit: the voter is being checked against
    this terminal's slips and the "already voted" snapshot before an OFFLINE slip is issued."""

    tx_id: str
    document: Document
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class SnapshotHit:
    """The snapshot says the voter may have voted today: no slip unless the head of branch lets it go."""

    tx_id: str
    document: Document
    snapshot_version: int
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class OfflineRefused:
    """No OFFLINE slip: the voter already has a slip of this terminal, or the permit does not allow one now."""

    tx_id: str
    notice: Notice
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class Reserving:
    tx: Tx
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class NoAnswer:
    """No usable answer in time: no slip; the operator retries or voids."""

    tx: Tx
    reason: NoAnswerReason
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class AnsweredLate:
    """The center's ELIGIBLE answer came after the screen said no slip: nothing prints by itself; the operator
    prints now (the voter is still there, same inquiry code) or voids (the center frees the voter)."""

    tx: Tx
    inquiry_code: str
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class VoterRefused:
    """The center said DUPLICATE, INELIGIBLE, VOIDED or REJECTED: no slip."""

    tx: Tx
    outcome: ReserveOutcome
    notice: Notice
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class Printing:
    tx: Tx
    inquiry_code: str
    reprint: bool = field(kw_only=True)
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class PrintInterrupted:
    """The slip did not print (the printer's word, or a restart mid-print); the reservation is kept until the
    operator retries or voids."""

    tx: Tx
    inquiry_code: str
    stage: PrintStage
    status: PrinterStatus | None
    """What the printer reported; None when a restart cut the print short."""
    reprint: bool = field(kw_only=True)
    day: PollsDay = field(kw_only=True)


@dataclass(frozen=True)
class Committing:
    tx: Tx
    inquiry_code: str
    day: PollsDay = field(kw_only=True)


# --- after a restart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryDecision:
    """A transaction found open after a restart that only the operator can settle."""

    tx: Tx
    inquiry_code: str
    question: RecoveryQuestion
    reprint: bool = field(kw_only=True)
    day: PollsDay = field(kw_only=True)


PollsState = PollsNotOpen | SelfTesting | PrintingZeroReport | Opening | PollsSuspended | Closing | PollsClosed
MinutesState = EnteringMinutes | SendingMinutes | MinutesSent | MinutesConflict
AfterClose = PollsClosed | MinutesState
"""The states once the close is acknowledged or given up waiting for: the polls stay closed."""
VoterState = (
    Idle
    | DocumentRejected
    | AwaitingConfirmation
    | CheckingPrinter
    | PrinterNotReady
    | CheckingOffline
    | SnapshotHit
    | OfflineRefused
    | Reserving
    | NoAnswer
    | AnsweredLate
    | VoterRefused
    | Printing
    | PrintInterrupted
    | Committing
)
DayState = PollsState | MinutesState | VoterState | RecoveryDecision
"""Every state that holds the polling day (all but Starting)."""
State = Starting | DayState

ALL_STATES: tuple[type[State], ...] = typing.get_args(State)
