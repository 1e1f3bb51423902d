"""A simulated terminal's telemetry as the real reporter makes it (signed birth, health reports) and when it is due."""

from __future__ import annotations

import hashlib
import heapq
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from firmware_app.flow.notices import Component
from firmware_app.version import VERSION, software_hash
from hal.camera import CameraState
from hal.card_reader import ReaderState
from hal.printer import PrinterState
from protocol.messages import CloseCounts
from protocol.seal import sign_telemetry
from protocol.telemetry import MAX_BIRTH, ComponentHealth, HealthReport, LinkState, PollsState, TerminalStatus
from protocol.topics import status_topic, telemetry_topic
from provisioning.installed import Installation

NO_COUNTS = CloseCounts(0, 0, 0, 0, 0, 0, 0, 0)
_CAN_PRINT = frozenset({PrinterState.READY, PrinterState.PAPER_LOW})


@dataclass(frozen=True)
class Board:
    """What a terminal's board says about itself (firmware_app.telemetry.board), fixed for a simulated one."""

    boot_id: str = "0" * 32
    uptime_s: int = 3600
    free_disk_mb: int | None = 9_000
    cpu_temp_mc: int | None = 48_000
    throttled: bool | None = False


def health_report(terminal: str, branch: str, district: str, birth: int, seq: int, at: datetime, *,
                  printer: PrinterState = PrinterState.READY, counters: CloseCounts = NO_COUNTS,
                  link_rtt_ms: int | None = None, clock_offset_ms: int | None = None, board: Board = Board(),
                  config_hash: str = "0" * 64) -> HealthReport:
    """A report with the fields firmware_app.telemetry.report.compose fills on a terminal whose polls are open:
    the components it asks (printer, center link, card reader, camera), this software's version and hash, the
    board's figures and the day's counts; status values and counts only, never a voter's data."""
    components = (
        ComponentHealth(Component.PRINTER.value, printer in _CAN_PRINT, printer.value),
        ComponentHealth(Component.CENTER_LINK.value, True, "connected"),
        ComponentHealth(Component.CARD_READER.value, True, ReaderState.NO_CARD.value),
        ComponentHealth(Component.CAMERA.value, True, CameraState.READY.value),
    )
    return HealthReport(
        terminal=terminal, branch=branch, district=district, birth=birth, seq=min(seq, MAX_BIRTH), at=at,
        boot_id=board.boot_id, uptime_s=board.uptime_s, software=VERSION, software_hash=software_hash(),
        config_hash=config_hash, polls=PollsState.OPEN, training=False, components=components,
        link_rtt_ms=link_rtt_ms, clock_offset_ms=clock_offset_ms, outbox_backlog=0, dropped_reports=0,
        free_disk_mb=board.free_disk_mb, cpu_temp_mc=board.cpu_temp_mc, throttled=board.throttled,
        counters=counters, alarms=(),
    )


def close_counts(counts: Counter[str]) -> CloseCounts:
    """The day's counts from what a simulated terminal was answered: `issued`, `voided`, `duplicates_refused`,
    `ineligible`."""
    return CloseCounts(counts["issued"], 0, counts["voided"], counts["duplicates_refused"], counts["ineligible"],
                       0, 0, 0)


class TerminalTelemetry:
    """One simulated terminal's reporter: the birth of its connection, its reports numbered within that birth
    (each ordered when due, for its board to compose and sign with the terminal's own key), and its printer's
    state."""

    def __init__(self, installation: Installation, birth: int) -> None:
        self.installation = installation
        self.status_topic = status_topic(installation.district, installation.terminal)
        self.topic = telemetry_topic(installation.district, installation.terminal)
        self.birth = birth
        self.seq = 0
        self.printer = PrinterState.READY
        self._booted = time.monotonic() - 600 - secrets.randbelow(3600)
        self._boot_id = secrets.token_hex(16)
        self._config_hash = hashlib.sha256(f"config of {installation.terminal}".encode()).hexdigest()
        self._offset_ms = secrets.randbelow(401) - 200

    def born(self) -> bytes:
        """ONLINE of this birth, to be published retained (QoS 1) once the connection is up."""
        who = self.installation
        status = TerminalStatus(who.terminal, who.branch, who.district, LinkState.ONLINE, self.birth,
                                datetime.now(UTC))
        return sign_telemetry(status, who.signing_key)

    def order(self, index: int, counts: Counter[str], link_rtt_ms: float | None, due: float, change: bool
              ) -> ReportOrder:
        """What the next health report of this birth says, for its board to compose and sign."""
        self.seq += 1
        return ReportOrder(index, self.birth, self.seq, datetime.now(UTC), self.printer, close_counts(counts),
                           None if link_rtt_ms is None else min(round(link_rtt_ms), 600_000),
                           None if link_rtt_ms is None else self._offset_ms,
                           Board(self._boot_id, int(time.monotonic() - self._booted)), self._config_hash, due, change)

    def report(self, counts: Counter[str], link_rtt_ms: float | None) -> bytes:
        """The next health report of this birth, signed now, here."""
        return signed_report(self.order(0, counts, link_rtt_ms, time.monotonic(), False), self.installation)


@dataclass(frozen=True)
class ReportOrder:
    """Everything a simulated terminal's next health report says (picklable: it goes to the board's process), and
    when it fell due (monotonic, the same clock in every process)."""

    index: int
    """The terminal's place in its driver."""
    birth: int
    seq: int
    at: datetime
    printer: PrinterState
    counters: CloseCounts
    link_rtt_ms: int | None
    clock_offset_ms: int | None
    board: Board
    config_hash: str
    due: float
    change: bool
    """Whether it is the report of the burst's change (the printer out of paper)."""


def signed_report(order: ReportOrder, installation: Installation) -> bytes:
    """The report `order` describes, composed as the real reporter composes it and signed with the terminal's key."""
    who = installation
    made = health_report(who.terminal, who.branch, who.district, order.birth, order.seq, order.at,
                         printer=order.printer, counters=order.counters, link_rtt_ms=order.link_rtt_ms,
                         clock_offset_ms=order.clock_offset_ms, board=order.board, config_hash=order.config_hash)
    return sign_telemetry(made, who.signing_key)


def birth_now() -> int:
    """A birth number for this run's connections: the time in seconds, so that each run's is higher than the
    last (a real terminal keeps a counter on disk, firmware_app.telemetry.birth)."""
    return int(time.time()) % MAX_BIRTH + 1


class TelemetryPlan:
    """When each of a driver's `terminals` reports, from `start`: every `interval_s`, staggered evenly (this
    driver's share of the fleet, `phase` of one step after the first driver's); and at half the interval a
    change (the printer out of paper) on a `burst` share of them, spread over the terminals, each reporting at
    once. As the real reporter does, a terminal's next report is due an interval after its last."""

    def __init__(self, terminals: int, interval_s: float, burst: float, phase: float, start: float) -> None:
        if not 0 <= burst <= 1 or interval_s <= 0:
            raise ValueError(f"a burst share of 0 to 1 and an interval over 0, not {burst} and {interval_s}")
        self.interval_s = interval_s
        self._next = [start + (index + phase) * interval_s / terminals for index in range(terminals)]
        self._due: list[tuple[float, int, bool]] = [(at, index, False) for index, at in enumerate(self._next)]
        burst_at = start + interval_s / 2
        changed = round(terminals * burst)
        self._due += [(burst_at, index * terminals // changed, True) for index in range(changed)]
        heapq.heapify(self._due)

    def next_at(self) -> float | None:
        return self._due[0][0] if self._due else None

    def due(self, now: float, most: int) -> list[tuple[int, bool]]:
        """At most `most` reports due by `now`, each (terminal index, whether it is the change's report)."""
        found: list[tuple[int, bool]] = []
        while self._due and self._due[0][0] <= now and len(found) < most:
            at, index, change = heapq.heappop(self._due)
            if not change and at != self._next[index]:
                continue  # superseded: the change's report moved this terminal's next one
            self._next[index] = at + self.interval_s
            heapq.heappush(self._due, (self._next[index], index, False))
            found.append((index, change))
        return found
