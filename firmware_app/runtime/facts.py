"""What only the loop knows and telemetry reports: the polls, the day's counts, the outbox, alarms, link figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from firmware_app.flow.states import PollsPhase
from protocol.messages import CloseCounts

SENDS_KEPT = 1024
"""Requests whose send time is kept for the round trip; the oldest are forgotten first."""


@dataclass(frozen=True)
class LoopFacts:
    """Read on the loop's thread (it alone reads the journal), handed to the telemetry reporter."""

    polls: PollsPhase
    counters: CloseCounts
    outbox_backlog: int
    alarms: dict[str, int] = field(default_factory=dict)
    """Alarms raised so far by kind (the flow's AlarmKind values, and `fault` for bugs the loop met)."""
    link_rtt_ms: int | None = None
    clock_offset_ms: int | None = None


class LinkFigures:
    """The last request's round trip, from its send to its verified answer, and our clock minus the center's
    time in that answer (so within one round trip of the true offset)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._sent: dict[str, float] = {}
        self.rtt_ms: int | None = None
        self.clock_offset_ms: int | None = None

    def sent(self, request_id: str) -> None:
        self._sent.pop(request_id, None)
        self._sent[request_id] = self._monotonic()
        while len(self._sent) > SENDS_KEPT:
            del self._sent[next(iter(self._sent))]

    def answered(self, request_id: str, center_time: datetime, now: datetime) -> None:
        started = self._sent.pop(request_id, None)
        if started is not None:
            self.rtt_ms = max(0, round((self._monotonic() - started) * 1000))
        self.clock_offset_ms = round((now - center_time).total_seconds() * 1000)
