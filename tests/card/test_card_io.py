"""The card thread a read can give up on, and the budget every APDU of a read is charged to."""

from __future__ import annotations

import threading

import pytest

from drivers.pcsc.card_io import Abandoned, CardIo
from hal.link_errors import LinkProblem
from hal.read_budget import ReadBudget, ReadLimits


def test_a_call_that_returns_in_time_gives_its_result_and_its_exception() -> None:
    io = CardIo()
    assert io.call(lambda: 42, timeout=1.0) == 42

    def broken() -> int:
        raise RuntimeError("a bug in the call")

    with pytest.raises(RuntimeError, match="a bug in the call"):
        io.call(broken, timeout=1.0)
    assert not io.busy


def test_an_abandoned_call_holds_the_thread_until_it_returns_and_its_result_is_discarded() -> None:
    io = CardIo()
    release = threading.Event()
    discarded: list[str] = []

    def late() -> str:
        release.wait()
        return "late answer"

    outcome = io.call(late, timeout=0.05, discard=discarded.append)
    assert outcome == Abandoned(started=True)
    assert io.busy and io.held_by_abandoned
    assert io.call(lambda: "refused", timeout=0.05) == Abandoned(started=False)
    release.set()
    assert io.wait_idle(2.0)
    assert not io.held_by_abandoned
    assert discarded == ["late answer"]
    assert io.call(lambda: "next", timeout=1.0) == "next"
    assert io.abandoned_calls == 1


def test_the_budget_refuses_apdus_past_the_cap_or_the_deadline() -> None:
    now = [100.0]
    budget = ReadBudget(ReadLimits(deadline_s=2.0, max_apdus=2), clock=lambda: now[0])
    assert budget.spend_apdu() is None and budget.spend_apdu() is None
    capped = budget.spend_apdu()
    assert capped is not None and capped.problem is LinkProblem.TOO_MANY_APDUS
    late = ReadBudget(ReadLimits(deadline_s=2.0), clock=lambda: now[0])
    now[0] += 2.5
    refused = late.spend_apdu()
    assert refused is not None and refused.problem is LinkProblem.TIMED_OUT
    assert late.remaining() == 0.0


@pytest.mark.parametrize(("deadline", "apdus"), [(0.0, 10), (-1.0, 10), (1.0, 0)])
def test_limits_that_allow_no_read_are_refused(deadline: float, apdus: int) -> None:
    with pytest.raises(ValueError):
        ReadLimits(deadline, apdus)
