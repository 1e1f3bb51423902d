"""A terminal's status and a health report, for the telemetry tests and fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime

from protocol.messages import CloseCounts
from protocol.telemetry import ComponentHealth, HealthReport, LinkState, OpenAlarm, PollsState, TerminalStatus

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def status(state: LinkState = LinkState.ONLINE, birth: int = 3) -> TerminalStatus:
    return TerminalStatus("T-0001", "B-0101", "D01", state, birth, AT)


def health(birth: int = 3, seq: int = 7) -> HealthReport:
    return HealthReport(
        "T-0001", "B-0101", "D01", birth, seq, AT, "0" * 32, 3600, "0.1.0", "a" * 64, "b" * 64, PollsState.OPEN,
        False, (ComponentHealth("printer", True, "ready"), ComponentHealth("card_reader", True, "no_card"),
                ComponentHealth("camera", False, "not_found")),
        41, -120, 0, 0, 10_240, 52_500, False, CloseCounts(12, 1, 0, 2, 1, 0, 1, 0), (OpenAlarm("tamper", 1),))
