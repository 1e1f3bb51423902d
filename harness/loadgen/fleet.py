"""The center's fleet service beside a load run, in this process as `kiosk-center serve` runs it: its intake and CPU
over the measured window."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

from center.fleet import FleetService
from center.fleet.model import Outcome
from harness.loadgen.cpu import thread_cpu_s

_POLL_S = 0.1


@dataclass(frozen=True)
class FleetFigures:
    """What the fleet service took in the window, by outcome (refusals by reason); its threads' CPU from the
    window's start until its intake fell quiet; and how long after the window's end that was (its backlog)."""

    applied: int
    stale: int
    refused: dict[str, int]
    cpu_s: float
    drained_s: float
    cpu_by_thread: dict[str, float]
    """The CPU seconds of `cpu_s` by thread name (the MQTT listener, the rules, the store's pool)."""

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    def line(self) -> str:
        refused = ", ".join(f"{reason} {count}" for reason, count in sorted(self.refused.items())) or "none"
        return (f"fleet intake in the window: applied {self.applied}, stale {self.stale}, refused {refused}; "
                f"quiet {self.drained_s:.1f} s after the window; its threads' CPU {self.cpu_s:.2f} s")


class FleetWatch:
    """Starts `service` here (its MQTT listener, rules and store) and stops it; the threads it starts are the ones
    whose CPU is counted. `settle` waits for its intake to fall quiet, `begin` begins the window, `figures` ends it."""

    def __init__(self, service: FleetService) -> None:
        self.service = service
        self._others: set[int | None] = set()
        self._outcomes: dict[Outcome, int] = {}
        self._refused: dict[str, int] = {}
        self._cpu: dict[int, float] = {}

    def __enter__(self) -> FleetWatch:
        self._others = {thread.native_id for thread in threading.enumerate()}
        self.service.start()
        if not self.service.wait_connected(30):
            self.service.stop()
            raise RuntimeError("the fleet service did not connect to the center's listener")
        return self

    def __exit__(self, _type: type[BaseException] | None, _value: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.service.stop()

    def settle(self, quiet_s: float = 1.0, most_s: float = 300.0) -> float:
        """Wait until no message was taken for `quiet_s` (at most `most_s`); the seconds until the last was."""
        began = time.monotonic()
        last, changed = self._taken(), began
        while time.monotonic() - changed < quiet_s and time.monotonic() - began < most_s:
            time.sleep(_POLL_S)
            taken = self._taken()
            if taken != last:
                last, changed = taken, time.monotonic()
        return changed - began

    def begin(self) -> None:
        """The window begins once the intake is quiet (the births and first reports taken) and the alert rules
        have run on what it holds: its counts and the fleet threads' CPU so far."""
        self.settle()
        self.service.evaluate()
        counts = self.service.intake_counts()
        self._outcomes, self._refused = dict(counts.outcomes), {r.value: n for r, n in counts.refused.items()}
        self._cpu = self._threads_cpu()

    def figures(self) -> FleetFigures:
        """The window has ended: wait for the intake to fall quiet, then what it took since `begin`."""
        drained = self.settle()
        counts = self.service.intake_counts()
        cpu = self._threads_cpu()
        refused = {reason.value: count - self._refused.get(reason.value, 0)
                   for reason, count in counts.refused.items()}
        return FleetFigures(
            counts.outcomes.get(Outcome.APPLIED, 0) - self._outcomes.get(Outcome.APPLIED, 0),
            counts.outcomes.get(Outcome.STALE, 0) - self._outcomes.get(Outcome.STALE, 0),
            {reason: count for reason, count in refused.items() if count},
            sum(spent - self._cpu.get(thread, 0.0) for thread, spent in cpu.items()), drained,
            self._by_name(cpu))

    def _by_name(self, cpu: dict[int, float]) -> dict[str, float]:
        names = {thread.native_id: thread.name for thread in threading.enumerate()}
        spent: dict[str, float] = {}
        for thread, seconds in cpu.items():
            name = names.get(thread, "ended")
            spent[name] = spent.get(name, 0.0) + seconds - self._cpu.get(thread, 0.0)
        return dict(sorted(spent.items(), key=lambda item: -item[1]))

    def _taken(self) -> int:
        return sum(self.service.intake_counts().outcomes.values())

    def _threads_cpu(self) -> dict[int, float]:
        return {thread.native_id: thread_cpu_s(thread.native_id) for thread in threading.enumerate()
                if thread.native_id is not None and thread.native_id not in self._others}
