"""Telemetry of protocol v1: a terminal's status (birth and will) and its health reports, as typed messages.

Status follows the Sparkplug birth/death pattern in JSON: on each connection the terminal publishes, retained,
ONLINE with a birth number one higher than the last, and leaves with the broker a will that says OFFLINE with
the same birth number; a will or report of an older birth can never overwrite a newer birth (`supersedes`).
Health reports carry status values and counts only: never a national code, a name or a photo.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from protocol.messages import NAME_PATTERN, CloseCounts

MAX_BIRTH = 2**31 - 1
MAX_COMPONENTS = 16
MAX_ALARMS = 16
CONDITION_PATTERN = r"[a-z][a-z0-9_]{0,31}"


def _name() -> dict[str, object]:
    return {"pattern": NAME_PATTERN}


def _count(most: int = MAX_BIRTH) -> dict[str, object]:
    return {"min": 0, "max": most}


class LinkState(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class PollsState(enum.StrEnum):
    """The polls as telemetry reports them (the terminal's flow has the same four phases)."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


@dataclass(frozen=True)
class TerminalStatus:
    """Retained on the terminal's status topic: ONLINE at each birth, OFFLINE as its will or when it stops."""

    terminal: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    district: str = field(metadata=_name())
    state: LinkState
    birth: int = field(metadata=_count())
    at: datetime


@dataclass(frozen=True)
class ComponentHealth:
    """One component's `status()` value: `component` names it, `condition` is the device's own status value."""

    component: str = field(metadata={"pattern": CONDITION_PATTERN})
    ok: bool
    condition: str = field(metadata={"pattern": CONDITION_PATTERN})


@dataclass(frozen=True)
class OpenAlarm:
    kind: str = field(metadata={"pattern": CONDITION_PATTERN})
    count: int = field(metadata=_count())


@dataclass(frozen=True)
class HealthReport:
    """Every `interval` and at once on a change that matters; `seq` counts the reports of one birth."""

    terminal: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    district: str = field(metadata=_name())
    birth: int = field(metadata=_count())
    seq: int = field(metadata=_count())
    at: datetime
    boot_id: str = field(metadata={"pattern": r"[0-9a-f]{32}"})
    uptime_s: int = field(metadata=_count())
    software: str = field(metadata={"pattern": r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}"})
    software_hash: str = field(metadata={"pattern": r"[0-9a-f]{64}"})
    config_hash: str = field(metadata={"pattern": r"[0-9a-f]{64}"})
    polls: PollsState
    training: bool
    components: tuple[ComponentHealth, ...] = field(metadata={"max_items": MAX_COMPONENTS})
    link_rtt_ms: int | None = field(metadata=_count(600_000))
    """The last request's round trip to the center's answer; None before the first."""
    clock_offset_ms: int | None = field(metadata={"min": -86_400_000, "max": 86_400_000})
    """The terminal's clock minus the center's, from the last answer's center time; None before the first."""
    outbox_backlog: int = field(metadata=_count())
    dropped_reports: int = field(metadata=_count())
    """Health reports not sent because the link was down (dropped, never queued without bound)."""
    free_disk_mb: int | None = field(metadata=_count())
    cpu_temp_mc: int | None = field(metadata={"min": -50_000, "max": 150_000})
    """CPU temperature in milli-degrees Celsius, where the board reports it."""
    throttled: bool | None
    """The board's firmware says it throttled (under-voltage, heat), where it reports it."""
    counters: CloseCounts
    alarms: tuple[OpenAlarm, ...] = field(metadata={"max_items": MAX_ALARMS})


Telemetry = TerminalStatus | HealthReport


def supersedes(incoming: Telemetry, held: TerminalStatus | None) -> bool:
    """Whether a message may change the terminal's status the district holds: a newer birth always does; within
    the same birth, OFFLINE (the will) does, and a health report keeps ONLINE; an older birth never does."""
    if held is None:
        return True
    if incoming.birth != held.birth:
        return incoming.birth > held.birth
    if isinstance(incoming, TerminalStatus):
        return incoming.state is LinkState.OFFLINE or held.state is LinkState.ONLINE
    return held.state is LinkState.ONLINE
