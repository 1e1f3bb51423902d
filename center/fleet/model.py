"""The fleet's typed values: each terminal's latest state as the district holds it, and why messages are refused."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from protocol.telemetry import HealthReport, LinkState, TerminalStatus

BACKLOG_SAMPLES = 4
"""How many of a terminal's latest outbox backlogs (of its current birth) the record keeps, for the growing rule."""


class RefusalReason(enum.StrEnum):
    """Why the intake refused a message; each is counted, none stops the listener."""

    NOT_A_FLEET_TOPIC = "not_a_fleet_topic"
    EMPTY = "empty"
    OVERSIZED = "oversized"
    UNKNOWN_TERMINAL = "unknown_terminal"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    CROSS_TERMINAL = "cross_terminal"
    """Signed by the topic's terminal, but naming another terminal, branch or district than its enrolment."""
    HANDLER_FAULT = "handler_fault"
    """The intake itself raised: a bug, alarmed; the message is dropped and the listener goes on."""


class Outcome(enum.StrEnum):
    """What became of one message."""

    APPLIED = "applied"
    STALE = "stale"
    """Genuine but superseded (a will of an older birth, a report replayed or of an older birth): ignored."""
    REFUSED = "refused"


@dataclass(frozen=True)
class TerminalRecord:
    """One terminal as the district holds it: its enrolment, the status that decides what may change it
    (`supersedes`), its latest health report, and when the center heard them (the center's clock)."""

    terminal: str
    branch: str
    district: str
    status: TerminalStatus | None = None
    status_heard_at: datetime | None = None
    health: HealthReport | None = None
    heard_at: datetime | None = None
    opened_at: datetime | None = None
    """When the center first heard this terminal report its polls open (or past open)."""
    backlog: tuple[int, ...] = field(default=())
    """The outbox backlogs of the latest reports of the current birth, oldest first, at most BACKLOG_SAMPLES."""

    @property
    def link(self) -> LinkState | None:
        """ONLINE or OFFLINE as the held status says; None if the terminal was never heard."""
        return None if self.status is None else self.status.state


@dataclass(frozen=True)
class HourCounts:
    """A terminal's day counters as last heard within one local hour (the hour's start, in UTC)."""

    terminal: str
    hour: datetime
    issued: int
    duplicates_refused: int
