"""The fleet's threads yield the CPU to the center's workers: each lowers its own scheduling priority (Linux keeps a
nice value per thread), so that under load a voter's reserve runs first and telemetry waits."""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)
MOST_NICE = 19
_lowered = threading.local()


def yield_to_voters(nice: int) -> None:
    """Make the calling thread `nice` steps nicer than the process (at most 19) once; later calls are free. A
    thread can always lower its own priority; where the system refuses all the same, it is logged and the thread
    goes on as it was."""
    if nice <= 0 or getattr(_lowered, "done", False):
        return
    _lowered.done = True
    thread = threading.get_native_id()
    try:
        target = min(MOST_NICE, os.getpriority(os.PRIO_PROCESS, os.getpid()) + nice)
        if os.getpriority(os.PRIO_PROCESS, thread) < target:
            os.setpriority(os.PRIO_PROCESS, thread, target)
    except OSError as exc:
        log.warning("the fleet thread %s keeps its priority: %s", threading.current_thread().name, exc)


def thread_nice() -> int:
    """The calling thread's own nice value."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
