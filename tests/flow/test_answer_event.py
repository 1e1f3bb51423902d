"""The runtime's translation of a verified answer into a flow event: the opening carries both clocks."""

from __future__ import annotations

from datetime import timedelta

from firmware_app.flow import events as ev
from firmware_app.flow import examples as s
from firmware_app.runtime.answers import answer_event
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    AnswerHeader,
    CloseAnswer,
    MinutesAnswer,
    MinutesOutcome,
    OfflineIssueAnswer,
    OfflineOutcome,
    RequestKind,
)

HEADER = AnswerHeader(s.TX, s.OTHER_TX, "T-0001", s.AT)


def test_the_open_acknowledgement_carries_the_center_time_the_local_time_and_the_bound() -> None:
    local = s.AT + timedelta(minutes=4)
    event = answer_event(Answer(RequestKind.OPEN, HEADER, AckAnswer(AckOutcome.ACK)), local, timedelta(seconds=30))
    assert event == ev.OpenAcknowledged(s.AT, local, timedelta(seconds=30))


def test_the_close_acknowledgement_carries_the_slips_the_center_holds_committed_for_the_branch() -> None:
    answer = Answer(RequestKind.CLOSE, HEADER, CloseAnswer(AckOutcome.ACK, 412))
    assert answer_event(answer, s.AT) == ev.CloseAcknowledged(412)


def test_the_minutes_answer_is_its_outcome() -> None:
    for outcome in MinutesOutcome:
        answer = Answer(RequestKind.MINUTES, HEADER, MinutesAnswer(outcome, "ab" * 32))
        assert answer_event(answer, s.AT) == ev.MinutesAnswered(outcome)


def test_the_offline_issue_answer_is_its_outcome_for_the_header_transaction() -> None:
    for outcome in OfflineOutcome:
        answer = Answer(RequestKind.OFFLINE_ISSUE, HEADER, OfflineIssueAnswer(outcome, "01000173158", None))
        assert answer_event(answer, s.AT) == ev.OfflineIssueAnswered(HEADER.tx_id, outcome, "01000173158")
