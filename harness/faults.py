"""The kill points the fault-injection tests plug into a terminal: record each point passed, die at one."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path


class KillAtPoint:
    """Implements `firmware_app.runtime.faults.FaultPoints`: record every point passed, and SIGKILL this process
    at the n-th one (1-based)."""

    def __init__(self, kill_at: int | None, trace: Path | None) -> None:
        self._kill_at = kill_at
        self._trace = trace
        self._passed = 0
        self._lock = threading.Lock()

    @property
    def passed(self) -> int:
        with self._lock:
            return self._passed

    def wait_quiet(self, quiet_s: float = 0.5, timeout_s: float = 10.0) -> None:
        """Until no point has been passed for `quiet_s` (the loop has finished its last step's effects), so that
        a run ends at the same point each time."""
        deadline = time.monotonic() + timeout_s
        seen = self.passed
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self.passed
            if now == seen:
                return
            seen = now

    def reached(self, name: str) -> None:
        with self._lock:
            self._passed += 1
            if self._trace is not None:
                with self._trace.open("a") as out:
                    out.write(f"{self._passed} {name}\n")
            if self._passed == self._kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
