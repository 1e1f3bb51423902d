"""The kill points the fault-injection tests plug into a terminal: record each point passed, die at one."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path


class KillAtPoint:
    """Implements `firmware_app.runtime.faults.FaultPoints`: record every point passed, and SIGKILL this process
    at the n-th one (1-based)."""

    def __init__(self, kill_at: int | None, trace: Path | None) -> None:
        self._kill_at = kill_at
        self._trace = trace
        self._passed = 0
        self._lock = threading.Lock()

    def reached(self, name: str) -> None:
        with self._lock:
            self._passed += 1
            if self._trace is not None:
                with self._trace.open("a") as out:
                    out.write(f"{self._passed} {name}\n")
            if self._passed == self._kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
