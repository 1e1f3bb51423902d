"""Named points between journal writes and side effects; the harness kills the process at one of them in
its fault-injection tests (harness.faults.KillAtPoint), production passes them by."""

from __future__ import annotations

from typing import Protocol


class FaultPoints(Protocol):
    def reached(self, name: str) -> None: ...


class NoFaults:
    """Production: passing a point does nothing."""

    def reached(self, name: str) -> None:
        return None
