"""A verified answer of the center, matched to its request, as the flow event it means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import assert_never

from firmware_app.flow.events import (
    CLOCK_TOLERANCE,
    CloseAcknowledged,
    CommitAnswered,
    Event,
    MinutesAnswered,
    OfflineIssueAnswered,
    OpenAcknowledged,
    ReserveAnswered,
    VoidAnswered,
)
from protocol.messages import (
    AckAnswer,
    Answer,
    CloseAnswer,
    CommitAnswer,
    MinutesAnswer,
    OfflineIssueAnswer,
    ReserveAnswer,
    VoidAnswer,
)


def answer_event(
    answer: Answer, received_at: datetime | None = None, clock_tolerance: timedelta = CLOCK_TOLERANCE
) -> Event:
    """`received_at` is the terminal's clock when the answer arrived (the system clock if not given); the
    opening compares it with the center's time in the answer. A minutes answer's hash is the loop's to match
    against the journaled minutes before it becomes an event."""
    tx_id = answer.header.tx_id
    match answer.body:
        case ReserveAnswer():
            return ReserveAnswered(tx_id, answer.body)
        case CommitAnswer(outcome=outcome):
            return CommitAnswered(tx_id, outcome)
        case VoidAnswer(outcome=outcome):
            return VoidAnswered(tx_id, outcome)
        case AckAnswer():
            local_time = received_at if received_at is not None else datetime.now(UTC)
            return OpenAcknowledged(answer.header.center_time, local_time, clock_tolerance)
        case CloseAnswer(branch_committed=committed):
            return CloseAcknowledged(committed)
        case MinutesAnswer(outcome=outcome):
            return MinutesAnswered(outcome)
        case OfflineIssueAnswer(outcome=outcome, offline_code=code):
            return OfflineIssueAnswered(tx_id, outcome, code)
        case _:
            assert_never(answer.body)
