"""The flow's states: where the terminal is, and what it holds in memory for the one open transaction."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from firmware_app.identity.document import Document
from firmware_app.identity.verdict import FaceVerdict as FaceVerdict  # noqa: PLC0414 (re-exported: a flow value)
from hal.printer import PrintStage
from protocol.messages import DocumentKind, ReserveOutcome


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


class NoAnswerReason(enum.StrEnum):
    TIMED_OUT = "timed_out"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class Tx:
    """One voter's transaction: its id (chosen by the terminal) and the kind of document shown."""

    tx_id: str
    document: DocumentKind
    recovered: bool = False


@dataclass(frozen=True)
class Starting:
    """Before the journal has been read."""


@dataclass(frozen=True)
class PollsNotOpen:
    notice: str = ""


@dataclass(frozen=True)
class SelfTesting:
    """Opening: every device is being checked."""


@dataclass(frozen=True)
class PrintingZeroReport:
    """Opening: the self-test passed; the zero report is printing."""


@dataclass(frozen=True)
class Opening:
    """The open report went to the center; waiting for its acknowledgement."""


@dataclass(frozen=True)
class PollsSuspended:
    pass


@dataclass(frozen=True)
class Closing:
    """The close report went to the center; waiting for its acknowledgement."""


@dataclass(frozen=True)
class PollsClosed:
    pass


@dataclass(frozen=True)
class Idle:
    """Polls open, no voter."""


@dataclass(frozen=True)
class DocumentRejected:
    message: str


@dataclass(frozen=True)
class AwaitingConfirmation:
    """The operator compares the person with the document."""

    tx_id: str
    document: Document
    face: FaceVerdict = FaceVerdict.PENDING
    face_message: str = ""


@dataclass(frozen=True)
class CheckingPrinter:
    """Confirmed; before the center is asked, the printer must be able to print (no reservation wasted)."""

    tx_id: str
    document: Document


@dataclass(frozen=True)
class PrinterNotReady:
    """The printer cannot print; nothing was asked of the center. The operator fixes it and retries."""

    tx_id: str
    document: Document
    message: str


@dataclass(frozen=True)
class Reserving:
    tx: Tx


@dataclass(frozen=True)
class NoAnswer:
    """No usable answer in time: no slip; the operator retries or voids."""

    tx: Tx
    reason: NoAnswerReason


@dataclass(frozen=True)
class AnsweredLate:
    """The center's ELIGIBLE answer came after the screen said no slip: nothing prints by itself; the operator
    prints now (the voter is still there, same inquiry code) or voids (the center frees the voter)."""

    tx: Tx
    inquiry_code: str


@dataclass(frozen=True)
class Refused:
    """The center said DUPLICATE, INELIGIBLE, VOIDED or REJECTED."""

    tx: Tx
    outcome: ReserveOutcome
    message: str


@dataclass(frozen=True)
class Printing:
    tx: Tx
    inquiry_code: str
    reprint: bool


@dataclass(frozen=True)
class PrintFailed:
    """The printer failed; the reservation is kept until the operator retries or voids."""

    tx: Tx
    inquiry_code: str
    stage: PrintStage
    reprint: bool
    message: str


@dataclass(frozen=True)
class Committing:
    tx: Tx
    inquiry_code: str


@dataclass(frozen=True)
class RecoveryDecision:
    """A transaction found open after a restart that only the operator can settle."""

    tx: Tx
    inquiry_code: str
    question: RecoveryQuestion
    reprint: bool


State = (
    Starting
    | PollsNotOpen
    | SelfTesting
    | PrintingZeroReport
    | Opening
    | PollsSuspended
    | Closing
    | PollsClosed
    | Idle
    | DocumentRejected
    | AwaitingConfirmation
    | CheckingPrinter
    | PrinterNotReady
    | Reserving
    | NoAnswer
    | AnsweredLate
    | Refused
    | Printing
    | PrintFailed
    | Committing
    | RecoveryDecision
)

ALL_STATES: tuple[type[State], ...] = (
    Starting,
    PollsNotOpen,
    SelfTesting,
    PrintingZeroReport,
    Opening,
    PollsSuspended,
    Closing,
    PollsClosed,
    Idle,
    DocumentRejected,
    AwaitingConfirmation,
    CheckingPrinter,
    PrinterNotReady,
    Reserving,
    NoAnswer,
    AnsweredLate,
    Refused,
    Printing,
    PrintFailed,
    Committing,
    RecoveryDecision,
)
