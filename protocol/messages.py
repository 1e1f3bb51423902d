"""Typed protocol v1 messages: requests from terminals, answers from the center."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from protocol.minutes import Minutes

VERSION = 1

ID_PATTERN = r"[0-9a-f]{32}"
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9-]{0,31}"
INQUIRY_PATTERN = r"[0-9]{9}"
OFFLINE_CODE_PATTERN = r"[0-9]{11}"
"""An OFFLINE slip's code (protocol.offline_code): never the length of an inquiry code or a national code."""
COMPACT_JWS_PATTERN = r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
MAX_OFFLINE_RECORD_CHARS = 3072
"""The longest signed offline issue record a replay carries (the largest record, sealed code and all, is under
2,400 characters; tests/protocol/test_offline_replay.py checks it)."""


def _id() -> dict[str, str]:
    return {"pattern": ID_PATTERN}


def _name() -> dict[str, str]:
    return {"pattern": NAME_PATTERN}


class RequestKind(enum.StrEnum):
    RESERVE = "reserve"
    COMMIT = "commit"
    VOID = "void"
    OPEN = "open"
    CLOSE = "close"
    MINUTES = "minutes"
    OFFLINE_ISSUE = "offline_issue"


class DocumentKind(enum.StrEnum):
    """Which identity document the voter showed."""

    SMART_CARD = "smart_card"
    BIRTH_CERTIFICATE = "birth_certificate"
    OLD_CARD = "old_card"


class ReserveOutcome(enum.StrEnum):
    ELIGIBLE = "ELIGIBLE"
    DUPLICATE = "DUPLICATE"
    INELIGIBLE = "INELIGIBLE"
    VOIDED = "VOIDED"
    REJECTED = "REJECTED"


class IneligibleReason(enum.StrEnum):
    NOT_ON_ROLL = "not_on_roll"
    DECEASED = "deceased"
    DISQUALIFIED = "disqualified"
    UNDER_AGE = "under_age"


class CommitOutcome(enum.StrEnum):
    COMMITTED = "COMMITTED"
    NOT_RESERVED = "NOT_RESERVED"


class VoidOutcome(enum.StrEnum):
    VOIDED = "VOIDED"
    ALREADY_COMMITTED = "ALREADY_COMMITTED"


class AckOutcome(enum.StrEnum):
    ACK = "ACK"


class MinutesOutcome(enum.StrEnum):
    RECORDED = "RECORDED"
    """These minutes are the branch's at the center (the first time, or the same minutes again)."""
    CONFLICT = "CONFLICT"
    """The center already holds other minutes for the branch (from any of its terminals): both are kept, the
    district settles it."""


class OfflineOutcome(enum.StrEnum):
    """How the center recorded a replayed OFFLINE slip (center.reconcile); every one is kept, none dropped."""

    ISSUED = "ISSUED"
    """The voter had no other slip: the offline slip is the voter's, committed in the registry."""
    DOUBLE_VOTE = "DOUBLE_VOTE"
    """The voter already held another slip: a double-vote record naming both is kept for the district."""
    INELIGIBLE = "INELIGIBLE"
    """The voter may not vote (not on the roll, deceased, ...): the slip is recorded as such."""
    CONFLICT = "CONFLICT"
    """Another record under the same permit and offline code was replayed before: both are kept."""
    REJECTED = "REJECTED"
    """The record itself does not hold (bad signature, not this terminal's, a sealed code that does not open):
    nothing is recorded; the terminal raises an alarm and keeps the record for the district."""


class VoidReason(enum.StrEnum):
    OPERATOR_CANCELLED = "operator_cancelled"
    NO_ANSWER = "no_answer"
    PRINT_FAILED = "print_failed"
    VOTER_LEFT = "voter_left"


@dataclass(frozen=True)
class RequestHeader:
    """What every request carries; `tx_id` is chosen by the terminal and makes retries idempotent."""

    request_id: str = field(metadata=_id())
    tx_id: str = field(metadata=_id())
    terminal: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    district: str = field(metadata=_name())
    sent_at: datetime


@dataclass(frozen=True)
class ReserveBody:
    """May this voter vote? The national code travels sealed to the center's key (JWE)."""

    sealed_voter: str = field(metadata={"max_length": 1024})
    document: DocumentKind
    training: bool


@dataclass(frozen=True)
class CommitBody:
    """The slip with this inquiry code was printed."""

    inquiry_code: str = field(metadata={"pattern": INQUIRY_PATTERN})
    reprints: int = field(metadata={"min": 0, "max": 100})


@dataclass(frozen=True)
class VoidBody:
    """The reservation will not become a slip."""

    reason: VoidReason


@dataclass(frozen=True)
class OpenBody:
    """The polls opened on this terminal."""

    software: str = field(metadata={"max_length": 64})
    config_hash: str = field(metadata={"pattern": r"[0-9a-f]{64}"})


@dataclass(frozen=True)
class CloseCounts:
    """The closing report's counts."""

    issued: int = field(metadata={"min": 0})
    reprinted: int = field(metadata={"min": 0})
    voided: int = field(metadata={"min": 0})
    duplicates_refused: int = field(metadata={"min": 0})
    ineligible: int = field(metadata={"min": 0})
    operator_rejected: int = field(metadata={"min": 0})
    rejected_documents: int = field(metadata={"min": 0})
    face_overrides: int = field(metadata={"min": 0})
    offline_issued: int = field(default=0, metadata={"min": 0})
    """Of `issued`, the OFFLINE slips under a district permit."""


@dataclass(frozen=True)
class CloseBody:
    """The polls closed on this terminal, with its counts."""

    counts: CloseCounts


@dataclass(frozen=True)
class MinutesBody:
    """The branch minutes after the count (the request's own signature is the terminal's over them)."""

    minutes: Minutes


@dataclass(frozen=True)
class OfflineIssueBody:
    """The replay of one OFFLINE slip: the issue record the terminal signed and journaled before the print
    (protocol.offline_code.OfflineIssue, compact JWS), the evidence the center keeps."""

    record: str = field(metadata={"pattern": COMPACT_JWS_PATTERN, "max_length": MAX_OFFLINE_RECORD_CHARS})


RequestBody = ReserveBody | CommitBody | VoidBody | OpenBody | CloseBody | MinutesBody | OfflineIssueBody

REQUEST_BODIES: dict[RequestKind, type[RequestBody]] = {
    RequestKind.RESERVE: ReserveBody,
    RequestKind.COMMIT: CommitBody,
    RequestKind.VOID: VoidBody,
    RequestKind.OPEN: OpenBody,
    RequestKind.CLOSE: CloseBody,
    RequestKind.MINUTES: MinutesBody,
    RequestKind.OFFLINE_ISSUE: OfflineIssueBody,
}


@dataclass(frozen=True)
class Request:
    header: RequestHeader
    body: RequestBody

    @property
    def kind(self) -> RequestKind:
        return request_kind(self.body)


def request_kind(body: RequestBody) -> RequestKind:
    return next(kind for kind, cls in REQUEST_BODIES.items() if isinstance(body, cls))


@dataclass(frozen=True)
class AnswerHeader:
    """Binds an answer to one request of one terminal, stamped with the center's time."""

    request_id: str = field(metadata=_id())
    tx_id: str = field(metadata=_id())
    terminal: str = field(metadata=_name())
    center_time: datetime


@dataclass(frozen=True)
class ReserveAnswer:
    outcome: ReserveOutcome
    inquiry_code: str | None = field(metadata={"pattern": INQUIRY_PATTERN})
    ineligible_reason: IneligibleReason | None
    first_branch: str | None = field(metadata=_name())
    first_at: datetime | None
    detail: str | None = field(metadata={"max_length": 200})


@dataclass(frozen=True)
class CommitAnswer:
    outcome: CommitOutcome


@dataclass(frozen=True)
class VoidAnswer:
    outcome: VoidOutcome


@dataclass(frozen=True)
class AckAnswer:
    outcome: AckOutcome


@dataclass(frozen=True)
class CloseAnswer:
    """The closing acknowledged, with the slips the center holds committed for the whole branch (all its
    terminals) at that moment: the minutes' check of the box against the center's count."""

    outcome: AckOutcome
    branch_committed: int = field(metadata={"min": 0, "max": 100_000})


@dataclass(frozen=True)
class MinutesAnswer:
    outcome: MinutesOutcome
    minutes_hash: str = field(metadata={"pattern": r"[0-9a-f]{64}"})
    """The hash of the minutes the center recorded for this request (`protocol.codec.minutes_hash`)."""


@dataclass(frozen=True)
class OfflineIssueAnswer:
    """How the replayed slip was recorded; `offline_code` names it, `detail` says why a record was REJECTED."""

    outcome: OfflineOutcome
    offline_code: str | None = field(metadata={"pattern": OFFLINE_CODE_PATTERN})
    detail: str | None = field(metadata={"max_length": 200})


AnswerBody = ReserveAnswer | CommitAnswer | VoidAnswer | AckAnswer | CloseAnswer | MinutesAnswer | OfflineIssueAnswer

ANSWER_BODIES: dict[RequestKind, type[AnswerBody]] = {
    RequestKind.RESERVE: ReserveAnswer,
    RequestKind.COMMIT: CommitAnswer,
    RequestKind.VOID: VoidAnswer,
    RequestKind.OPEN: AckAnswer,
    RequestKind.CLOSE: CloseAnswer,
    RequestKind.MINUTES: MinutesAnswer,
    RequestKind.OFFLINE_ISSUE: OfflineIssueAnswer,
}


@dataclass(frozen=True)
class Answer:
    kind: RequestKind
    header: AnswerHeader
    body: AnswerBody


@dataclass(frozen=True)
class Extension:
    """District broadcast: the polls of `district` close at `closes_at` instead (signed by the center)."""

    district: str = field(metadata=_name())
    closes_at: datetime
    issued_at: datetime


@dataclass(frozen=True)
class CountingInstructions:
    """District broadcast at closing: how the branches count the votes (شیوه‌نامه شمارش), signed by the center;
    the terminal shows them with the minutes' entry. A newer `issued_at` replaces an older one."""

    district: str = field(metadata=_name())
    title: str = field(metadata={"max_length": 120})
    text: str = field(metadata={"max_length": 6000})
    issued_at: datetime
