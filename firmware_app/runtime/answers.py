"""A verified answer of the center, matched to its request, as the flow event it means."""

from __future__ import annotations

from typing import assert_never

from firmware_app.flow.events import (
    CloseAcknowledged,
    CommitAnswered,
    Event,
    OpenAcknowledged,
    ReserveAnswered,
    VoidAnswered,
)
from protocol.messages import AckAnswer, Answer, CommitAnswer, RequestKind, ReserveAnswer, VoidAnswer


def answer_event(answer: Answer) -> Event:
    tx_id = answer.header.tx_id
    match answer.body:
        case ReserveAnswer():
            return ReserveAnswered(tx_id, answer.body)
        case CommitAnswer(outcome=outcome):
            return CommitAnswered(tx_id, outcome)
        case VoidAnswer(outcome=outcome):
            return VoidAnswered(tx_id, outcome)
        case AckAnswer():
            return OpenAcknowledged() if answer.kind is RequestKind.OPEN else CloseAcknowledged()
        case _:
            assert_never(answer.body)
