"""The fleet's threads yield the CPU to the center's workers: each lowers its own priority once, the process and
its other threads keep theirs."""

from __future__ import annotations

import os
import threading

from center.fleet.priority import MOST_NICE, thread_idle, thread_nice, yield_to_voters


def _in_thread(*steps: int) -> list[int]:
    seen: list[int] = []

    def run() -> None:
        for nice in steps:
            yield_to_voters(nice)
            seen.append(thread_nice())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen


def test_a_thread_lowers_its_own_priority_once_and_the_process_keeps_its_own() -> None:
    process = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert _in_thread(10, 10, 5) == [min(MOST_NICE, process + 10)] * 3
    assert thread_nice() == process, "the calling thread (and so the process) is left as it was"


def test_no_more_than_the_nicest_and_zero_is_left_as_it_is() -> None:
    process = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert _in_thread(40) == [MOST_NICE]
    assert _in_thread(0) == [process]


def test_idle_puts_the_calling_thread_alone_under_sched_idle() -> None:
    seen: list[bool] = []

    def run() -> None:
        yield_to_voters(0, idle=True)
        seen.append(thread_idle(threading.get_native_id()))
        yield_to_voters(0, idle=False)
        seen.append(thread_idle(threading.get_native_id()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [True, True], "the thread is under SCHED_IDLE, and a later call leaves it there"
    assert not thread_idle(threading.get_native_id()), "the calling thread (and so the process) is left as it was"
    assert os.sched_getscheduler(os.getpid()) == os.SCHED_OTHER
