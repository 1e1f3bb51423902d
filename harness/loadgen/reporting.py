"""A driver's telemetry load: its terminals' births and health reports, each through its own client, when due."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt

from hal.printer import PrinterState
from harness.loadgen.report import DriverReport
from harness.loadgen.telemetry import TelemetryPlan, TerminalTelemetry, birth_now
from harness.loadgen.terminal import SimulatedTerminal

REPORTS_AT_ONCE = 4
"""Health reports signed and sent in one turn of the driver's loop at most (a ms or two): a burst is spread over
many turns, so that answers are still read between them and the loop never stalls on it."""


class DriverTelemetry:
    """Made with the driver's terminals (each gets its reporter, of this run's birth); `flush` writes out what a
    terminal's client has queued. Counts what it sends, and the CPU it spends sending in the window, in `report`."""

    def __init__(self, terminals: Sequence[SimulatedTerminal], report: DriverReport,
                 flush: Callable[[SimulatedTerminal], None]) -> None:
        birth = birth_now()
        for terminal in terminals:
            terminal.telemetry = TerminalTelemetry(terminal.installation, birth)
        self._terminals = list(terminals)
        self._report = report
        self._flush = flush
        self._reporting: list[SimulatedTerminal] = []
        self._plan: TelemetryPlan | None = None

    def announce(self, poll: Callable[[float], None], timeout: float) -> None:
        """As a terminal does on connecting, each connected one's birth (retained, QoS 1) and first health report;
        returns once the broker acknowledged every birth (or after `timeout`)."""
        births = []
        for terminal in self._terminals:
            if terminal.telemetry is None or not terminal.subscribed:
                continue
            info = terminal.client.publish(terminal.telemetry.status_topic, terminal.telemetry.born(), qos=1,
                                           retain=True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                births.append(info)
            else:
                self._report.errors[f"birth publish refused ({info.rc})"] += 1
            self._report.reports_before += self._send(terminal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(info.is_published() for info in births):
            poll(0.1)
        self._report.births_sent = sum(info.is_published() for info in births)

    def start(self, interval_s: float, burst: float, phase: float, started: float) -> None:
        """The window begins at `started` (monotonic): the connected terminals report from now on."""
        self._reporting = [t for t in self._terminals if t.telemetry is not None and t.subscribed]
        if self._reporting:
            self._plan = TelemetryPlan(len(self._reporting), interval_s, burst, phase, started)

    def next_at(self) -> float | None:
        return None if self._plan is None else self._plan.next_at()

    def send_due(self, now: float) -> None:
        """Sign and send the reports due by `now` (at most REPORTS_AT_ONCE; the rest at the next turn)."""
        at = self.next_at()
        if self._plan is None or at is None or at > now:
            return
        spent = time.thread_time()
        for index, change in self._plan.due(now, REPORTS_AT_ONCE):
            terminal = self._reporting[index]
            if change and terminal.telemetry is not None:
                terminal.telemetry.printer = PrinterState.NO_PAPER
            if self._send(terminal):
                self._report.reports_sent += 1
                self._report.burst_sent += change
        self._report.telemetry_cpu_s += time.thread_time() - spent

    def _send(self, terminal: SimulatedTerminal) -> bool:
        """Sign the terminal's next health report now and send it (QoS 0, on its own telemetry topic)."""
        telemetry = terminal.telemetry
        assert telemetry is not None
        info = terminal.client.publish(telemetry.topic, telemetry.report(terminal.counts, terminal.last_rtt_ms),
                                       qos=0)
        self._flush(terminal)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._report.errors[f"telemetry publish refused ({info.rc})"] += 1
            return False
        return True
