"""What the operator is told, as typed keys and parameters; `texts.render` alone turns a notice into Persian."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from firmware_app.flow.double_entry import EntriesDiffer, SameOfficial
from firmware_app.identity.document import DocumentProblem
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from hal.printer import PrinterStatus
from protocol.messages import IneligibleReason
from protocol.minutes import MinutesRefused
from protocol.national_code import NationalCodeProblem
from protocol.permit import PermitRefusal


class Say(enum.StrEnum):
    """A notice without parameters."""

    SELF_TEST = "self_test"
    ZERO_REPORT_PRINTING = "zero_report_printing"
    CLOSING_REPORT_PRINTED = "closing_report_printed"
    TAMPER = "tamper"
    FACE_WAIT = "face_wait"
    FACE_OVERRIDE_NEEDED = "face_override_needed"
    FACE_OVERRIDDEN = "face_overridden"
    POLLS_OPENING = "polls_opening"
    POLLS_OPEN = "polls_open"
    OPEN_NOT_ACKNOWLEDGED = "open_not_acknowledged"
    POLLS_SUSPENDED = "polls_suspended"
    POLLS_CLOSING = "polls_closing"
    POLLS_CLOSED = "polls_closed"
    CLOSE_PENDING = "close_pending"
    CONFIRM_PERSON = "confirm_person"
    OPERATOR_REJECTED = "operator_rejected"
    CARD_REMOVED = "card_removed"
    CARD_NOT_NOW = "card_not_now"
    CHECKING_PRINTER = "checking_printer"
    ASKING_CENTER = "asking_center"
    NO_ANSWER = "no_answer"
    UNVERIFIABLE = "unverifiable"
    ANSWERED_LATE = "answered_late"
    TX_VOIDED = "tx_voided"
    CENTER_REJECTED = "center_rejected"
    PRINTING = "printing"
    ISSUED = "issued"
    COMMIT_PENDING = "commit_pending"
    VOIDED = "voided"
    RECOVERY_PRINT_OR_VOID = "recovery_print_or_void"
    RECOVERY_DID_SLIP_COME_OUT = "recovery_did_slip_come_out"
    COMMIT_DISPUTED = "commit_disputed"
    VOID_AFTER_COMMIT = "void_after_commit"
    DOUBLE_VOTE_FOUND = "double_vote_found"
    OFFLINE_RECORD_REJECTED = "offline_record_rejected"
    OFFLINE_CONFLICT = "offline_conflict"
    ANSWER_FORGED = "answer_forged"
    SLIP_QUESTION_FIRST = "slip_question_first"
    CLOSE_ACKNOWLEDGED = "close_acknowledged"
    MINUTES_AFTER_CLOSE = "minutes_after_close"
    NO_ELECTION = "no_election"
    BAD_OFFICIAL = "bad_official"
    MINUTES_FIRST_HELD = "minutes_first_held"
    MINUTES_ENTRY_DISCARDED = "minutes_entry_discarded"
    MINUTES_AGREED = "minutes_agreed"
    MINUTES_PRINTED = "minutes_printed"
    MINUTES_PENDING = "minutes_pending"
    MINUTES_SENT = "minutes_sent"
    MINUTES_CONFLICT = "minutes_conflict"
    MINUTES_ALREADY_RECORDED = "minutes_already_recorded"
    OFFLINE_ACTIVE = "offline_active"
    CHECKING_OFFLINE = "checking_offline"
    ISSUED_OFFLINE = "issued_offline"
    BACK_ONLINE = "back_online"
    PERMIT_ENDED = "permit_ended"
    PERMIT_HELD = "permit_held"
    NO_PERMIT = "no_permit"
    PERMIT_WHEN_IDLE = "permit_when_idle"
    PERMIT_ACTIVATION_OFFERED = "permit_activation_offered"
    NO_ACTIVATION_OFFERED = "no_activation_offered"
    SNAPSHOT_HIT = "snapshot_hit"
    SNAPSHOT_HIT_ALLOWED = "snapshot_hit_allowed"
    OFFLINE_ALREADY_ISSUED = "offline_already_issued"
    OFFLINE_ISSUED_AT_BRANCH = "offline_issued_at_branch"


class Component(enum.StrEnum):
    """A part of the terminal the self-test and telemetry report on."""

    PRINTER = "printer"
    CENTER_LINK = "center_link"
    CARD_READER = "card_reader"
    CAMERA = "camera"


@dataclass(frozen=True)
class Finding:
    """One component that is not well: its status value as the device reported it (`printer.no_paper`, ...)."""

    component: Component
    condition: str


@dataclass(frozen=True)
class NotOpenYet:
    opens_at: datetime


@dataclass(frozen=True)
class ClosingNotYet:
    closes_at: datetime


@dataclass(frozen=True)
class SelfTestFailed:
    problems: tuple[Finding, ...]


@dataclass(frozen=True)
class SelfTestWarnings:
    warnings: tuple[Finding, ...]


@dataclass(frozen=True)
class ZeroReportFailed:
    status: PrinterStatus


@dataclass(frozen=True)
class ClosingReportFailed:
    status: PrinterStatus


@dataclass(frozen=True)
class MinutesReportFailed:
    status: PrinterStatus


@dataclass(frozen=True)
class InstructionsArrived:
    """The district's counting instructions came (their text is on the minutes screen)."""

    title: str


@dataclass(frozen=True)
class Extended:
    until: datetime


@dataclass(frozen=True)
class ClockOff:
    """The terminal's clock is `ahead` of the center's (negative: behind)."""

    ahead: timedelta


@dataclass(frozen=True)
class FaceResult:
    verdict: FaceVerdict
    distance: float | None
    problem: FaceProblem | None


@dataclass(frozen=True)
class DocumentRefused:
    """A card the terminal did not accept (`problem`), or a typed code that is not a national code."""

    problem: DocumentProblem | NationalCodeProblem | None
    """None: a typed code offered as a smart card, which only the chip can stand for."""
    character: str = ""
    position: int = 0
    count: int = 0


@dataclass(frozen=True)
class PrinterUnready:
    status: PrinterStatus


@dataclass(frozen=True)
class SlipNotPrinted:
    """`status` is the printer's word; None when the print was cut short by a restart."""

    status: PrinterStatus | None


@dataclass(frozen=True)
class Duplicate:
    first_branch: str | None
    first_at: datetime | None


@dataclass(frozen=True)
class Ineligible:
    reason: IneligibleReason | None


@dataclass(frozen=True)
class PermitRefused:
    """An offline permit's code, activation or slip refused, and why (protocol.permit.PermitRefusal)."""

    refusal: PermitRefusal


Notice = (
    Say
    | NotOpenYet
    | ClosingNotYet
    | SelfTestFailed
    | SelfTestWarnings
    | ZeroReportFailed
    | ClosingReportFailed
    | MinutesReportFailed
    | InstructionsArrived
    | MinutesRefused
    | EntriesDiffer
    | SameOfficial
    | Extended
    | ClockOff
    | FaceResult
    | DocumentRefused
    | PrinterUnready
    | SlipNotPrinted
    | Duplicate
    | Ineligible
    | PermitRefused
)
