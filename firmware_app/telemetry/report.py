"""A health report from what the loop, the devices and the board say; and which changes send one at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.states import PollsPhase
from firmware_app.runtime.facts import LoopFacts
from firmware_app.runtime.health import Health
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.telemetry.board import BoardFacts
from protocol.telemetry import MAX_ALARMS, MAX_BIRTH, ComponentHealth, HealthReport, OpenAlarm, PollsState

POLLS = {PollsPhase.NOT_OPEN: PollsState.NOT_OPEN, PollsPhase.OPEN: PollsState.OPEN,
         PollsPhase.SUSPENDED: PollsState.SUSPENDED, PollsPhase.CLOSED: PollsState.CLOSED}


@dataclass(frozen=True)
class Numbering:
    """The connection's birth, the report's number within it, and the reports dropped since start (link down)."""

    birth: int
    seq: int
    dropped: int


def compose(settings: RuntimeSettings, numbering: Numbering, at: datetime, board: BoardFacts, facts: LoopFacts,
            components: Sequence[Health]) -> HealthReport:
    """Status values and counts only: nothing here can carry a national code, a name or a photo."""
    identity = settings.identity
    alarms = tuple(OpenAlarm(kind, min(count, MAX_BIRTH)) for kind, count in sorted(facts.alarms.items()) if count)
    return HealthReport(
        terminal=identity.terminal, branch=identity.branch, district=identity.district, birth=numbering.birth,
        seq=min(numbering.seq, MAX_BIRTH), at=at, boot_id=board.boot_id, uptime_s=min(board.uptime_s, MAX_BIRTH),
        software=settings.software_version, software_hash=settings.software_hash, config_hash=settings.config_hash,
        polls=POLLS[facts.polls], training=settings.training,
        components=tuple(ComponentHealth(h.component.value, h.ok, h.condition or "unknown") for h in components),
        link_rtt_ms=None if facts.link_rtt_ms is None else min(facts.link_rtt_ms, 600_000),
        clock_offset_ms=None if facts.clock_offset_ms is None else max(-86_400_000, min(facts.clock_offset_ms,
                                                                                         86_400_000)),
        outbox_backlog=min(facts.outbox_backlog, MAX_BIRTH), dropped_reports=min(numbering.dropped, MAX_BIRTH),
        free_disk_mb=board.free_disk_mb, cpu_temp_mc=board.cpu_temp_mc, throttled=board.throttled,
        counters=facts.counters, alarms=alarms[:MAX_ALARMS],
    )


def what_matters(report: HealthReport) -> tuple[object, ...]:
    """The part of a report whose change is sent at once rather than at the next interval: each component's
    condition, the polls, the alarms, a growing outbox (by tens); not the counters, clocks or figures."""
    return (tuple((c.component, c.ok, c.condition) for c in report.components), report.polls, report.alarms,
            report.outbox_backlog // 10)
