"""The intake's decision on one message: topic, size, the sender's enrolled key, strict parsing, `supersedes`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from center.enrolled import EnrolledTerminal
from center.fleet.model import BACKLOG_SAMPLES, RefusalReason, TerminalRecord
from protocol.codec import MAX_MESSAGE_BYTES, ProblemKind, ProtocolError
from protocol.seal import open_health, open_status
from protocol.telemetry import HealthReport, LinkState, PollsState, Telemetry, TerminalStatus, supersedes

_FLEET_TOPIC = re.compile(r"vk/v1/([A-Za-z0-9-]{1,32})/([A-Za-z0-9-]{1,32})/(status|telemetry)")
MAX_STATUS_BYTES = 2 * MAX_MESSAGE_BYTES
MAX_HEALTH_BYTES = 4 * MAX_MESSAGE_BYTES
"""The same bounds `protocol.seal` applies, checked before anything else is done with the bytes."""
_PAST_OPEN = frozenset({PollsState.OPEN, PollsState.SUSPENDED, PollsState.CLOSED})


@dataclass(frozen=True)
class Refused:
    reason: RefusalReason
    detail: str
    """A typed problem and where (never the payload), safe to log."""


@dataclass(frozen=True)
class Stale:
    terminal: str


@dataclass(frozen=True)
class Accepted:
    record: TerminalRecord
    """The terminal's record with the message applied."""
    report: HealthReport | None


Decision = Accepted | Stale | Refused


def take(topic: str, payload: bytes, district: str, enrolled: Mapping[str, EnrolledTerminal],
         held: Callable[[str], TerminalRecord | None], now: datetime) -> Decision:
    """Decide on one message from the broker: refused (why), stale (ignored), or accepted with the new record.
    The topic's terminal must be the signer (its enrolled key verifies) and the message must name that terminal,
    its enrolled branch and this district."""
    match = _FLEET_TOPIC.fullmatch(topic)
    if match is None or match.group(1) != district:
        return Refused(RefusalReason.NOT_A_FLEET_TOPIC, "topic")
    terminal, kind = match.group(2), match.group(3)
    if not payload:
        return Refused(RefusalReason.EMPTY, kind)
    if len(payload) > (MAX_STATUS_BYTES if kind == "status" else MAX_HEALTH_BYTES):
        return Refused(RefusalReason.OVERSIZED, f"{kind}: {len(payload)} bytes")
    enrolment = enrolled.get(terminal)
    if enrolment is None or enrolment.district != district:
        return Refused(RefusalReason.UNKNOWN_TERMINAL, kind)
    opened: Telemetry | ProtocolError = (open_status(payload, enrolment.signing_key) if kind == "status"
                                         else open_health(payload, enrolment.signing_key))
    if isinstance(opened, ProtocolError):
        return Refused(_reason(opened), f"{kind}: {opened}")
    if (opened.terminal, opened.branch, opened.district) != (terminal, enrolment.branch, district):
        return Refused(RefusalReason.CROSS_TERMINAL, kind)
    record = held(terminal) or TerminalRecord(terminal, enrolment.branch, district)
    if not supersedes(opened, record.status):
        return Stale(terminal)
    if isinstance(opened, TerminalStatus):
        return Accepted(_with_status(record, opened, now), None)
    last = record.health
    if last is not None and last.birth == opened.birth and opened.seq <= last.seq:
        return Stale(terminal)
    return Accepted(_with_report(record, opened, now), opened)


def _reason(error: ProtocolError) -> RefusalReason:
    if error.kind is ProblemKind.BAD_SIGNATURE:
        return RefusalReason.BAD_SIGNATURE
    if error.kind is ProblemKind.OVERSIZED:
        return RefusalReason.OVERSIZED
    if error.kind is ProblemKind.PARSER_FAULT:
        return RefusalReason.HANDLER_FAULT
    return RefusalReason.MALFORMED


def _with_status(record: TerminalRecord, status: TerminalStatus, now: datetime) -> TerminalRecord:
    newer_birth = record.status is None or status.birth != record.status.birth
    return dataclasses.replace(record, status=status, status_heard_at=now, heard_at=now,
                               backlog=() if newer_birth else record.backlog)


def _with_report(record: TerminalRecord, report: HealthReport, now: datetime) -> TerminalRecord:
    """A report of a newer birth than the held status stands for that birth's ONLINE (its birth message was
    missed), so that birth's will, and nothing older, may then mark the terminal offline."""
    status, status_heard_at, backlog = record.status, record.status_heard_at, record.backlog
    if status is None or status.birth != report.birth:
        status = TerminalStatus(report.terminal, report.branch, report.district, LinkState.ONLINE, report.birth,
                                report.at)
        status_heard_at, backlog = now, ()
    opened_at = record.opened_at
    if opened_at is None and report.polls in _PAST_OPEN:
        opened_at = now
    return dataclasses.replace(record, status=status, status_heard_at=status_heard_at, health=report,
                               heard_at=now, opened_at=opened_at,
                               backlog=(*backlog, report.outbox_backlog)[-BACKLOG_SAMPLES:])
