"""The fleet's threads yield the CPU to the center's workers: each lowers its own scheduling (Linux schedules each
thread on its own), so that under load a voter's reserve runs first and telemetry waits."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)
MOST_NICE = 19
_lowered = threading.local()


def yield_to_voters(nice: int, idle: bool = False) -> None:
    """Once per thread, later calls are free: with `idle`, put the calling thread under SCHED_IDLE (it runs only on
    a core no other thread wants, and any waking worker takes the core from it at once); and make it `nice` steps
    nicer than the process (at most 19), which is what counts where SCHED_IDLE is refused. A thread can always
    lower its own priority; where the system refuses all the same, it is logged and the thread goes on as it was."""
    if getattr(_lowered, "done", False) or (nice <= 0 and not idle):
        return
    _lowered.done = True
    thread = threading.get_native_id()
    if idle:
        try:
            os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        except OSError as exc:
            log.warning("the fleet thread %s is not put under SCHED_IDLE: %s", threading.current_thread().name, exc)
    if nice <= 0:
        return
    try:
        target = min(MOST_NICE, os.getpriority(os.PRIO_PROCESS, os.getpid()) + nice)
        if os.getpriority(os.PRIO_PROCESS, thread) < target:
            os.setpriority(os.PRIO_PROCESS, thread, target)
    except OSError as exc:
        log.warning("the fleet thread %s keeps its priority: %s", threading.current_thread().name, exc)


def thread_nice() -> int:
    """The calling thread's own nice value."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def thread_idle(native_id: int) -> bool:
    """Whether the thread `native_id` runs under SCHED_IDLE."""
    return os.sched_getscheduler(native_id) == os.SCHED_IDLE
