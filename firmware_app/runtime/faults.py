"""Named points between journal writes and side effects, where fault-injection tests kill the process."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Protocol


class FaultPoints(Protocol):
    def reached(self, name: str) -> None: ...


class NoFaults:
    """Production: passing a point does nothing."""

    def reached(self, name: str) -> None:
        return None


class KillAtPoint:
    """Test harness: record every point passed, and SIGKILL this process at the n-th one (1-based)."""

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
