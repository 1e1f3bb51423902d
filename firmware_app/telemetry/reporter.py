"""Health reports on their own thread: every interval and at once on a change that matters, never delaying a voter."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from firmware_app.runtime.facts import LoopFacts
from firmware_app.runtime.health import FaultsOnce, HealthCheck, run_self_test
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.telemetry.board import read_board
from firmware_app.telemetry.report import Numbering, compose, what_matters
from protocol.seal import sign_telemetry

log = logging.getLogger(__name__)

INTERVAL_S = 30.0
WATCH_S = 2.0
"""How often the devices are asked and the loop's facts read, to send a change at once."""
FACTS_WAIT_S = 5.0


class TelemetryLink(Protocol):
    """The link as telemetry uses it: the birth of the connection that is up, and a publish that never queues."""

    @property
    def birth(self) -> int | None: ...

    def publish_health(self, payload: bytes) -> bool: ...


class LoopAsked(Protocol):
    def facts_later(self, answer: Callable[[LoopFacts], None]) -> None: ...

    def device_fault(self, handling: str, exc: Exception) -> None: ...


class HealthReporter:
    """Asks the loop for what only it knows (posting, never waiting on its journal), asks the devices for their
    status values, and publishes a signed report while the link is up; while it is down a due report is dropped
    and counted (every report sent says how many since start), never queued."""

    def __init__(self, settings: RuntimeSettings, loop: LoopAsked, link: TelemetryLink,
                 checks: Sequence[HealthCheck], state_dir: Path, clock: Callable[[], datetime], *,
                 interval_s: float = INTERVAL_S, watch_s: float = WATCH_S) -> None:
        self._settings = settings
        self._loop = loop
        self._link = link
        self._checks = list(checks)
        self._state_dir = state_dir
        self._clock = clock
        self._interval_s = interval_s
        self._watch_s = min(watch_s, interval_s)
        self._stop = threading.Event()
        self._poked = threading.Event()
        self._faults = FaultsOnce(loop.device_fault)
        self._thread = threading.Thread(target=self._run, name="telemetry", daemon=True)
        self._facts: queue.Queue[LoopFacts] = queue.Queue(maxsize=1)
        self.sent = 0
        self.dropped = 0
        """Reports due while the link was down, since start; each report says how many, so a report lost on the
        way loses no count."""
        self._birth_seq = (0, 0)
        """The birth of the last report sent and its number within that birth."""
        self._last_matter: tuple[object, ...] | None = None
        self._next_due = 0.0

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Look now rather than at the next watch (the flow changed state: a change that matters may be due)."""
        self._poked.set()

    def stop(self) -> None:
        self._stop.set()
        self._poked.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._look()
            except Exception as exc:  # a bug here must not end telemetry: the loop audits it, we go on
                self._loop.device_fault("telemetry report", exc)
            self._poked.wait(self._watch_s)
            self._poked.clear()

    def _look(self) -> None:
        facts = self._ask_loop()
        if facts is None:
            return
        _, components = run_self_test(self._checks, self._faults)
        self._faults.looked()
        birth = self._link.birth
        seq = self._birth_seq[1] + 1 if self._birth_seq[0] == birth else 1
        numbering = Numbering(birth or 0, seq, self.dropped)
        report = compose(self._settings, numbering, self._clock(), read_board(self._state_dir), facts, components)
        matter = what_matters(report)
        if time.monotonic() < self._next_due and matter == self._last_matter:
            return
        self._last_matter = matter
        self._next_due = time.monotonic() + self._interval_s
        if birth is None or not self._link.publish_health(sign_telemetry(report, self._settings.terminal_signing_key)):
            self.dropped += 1
            return
        self._birth_seq = (birth, seq)
        self.sent += 1

    def _ask_loop(self) -> LoopFacts | None:
        def answer(facts: LoopFacts) -> None:
            try:
                self._facts.put_nowait(facts)
            except queue.Full:
                return

        while not self._facts.empty():  # a late answer to an earlier question is stale now
            self._facts.get_nowait()
        self._loop.facts_later(answer)
        try:
            return self._facts.get(timeout=FACTS_WAIT_S)
        except queue.Empty:
            log.warning("the loop did not answer telemetry within %.0f s", FACTS_WAIT_S)
            return None
