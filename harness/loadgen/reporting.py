"""A driver's telemetry load: its terminals' births and health reports, each through its own client, when due."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt

from hal.printer import PrinterState
from harness.loadgen.boards import Boards, BoardsDone
from harness.loadgen.report import DriverReport
from harness.loadgen.telemetry import TelemetryPlan, TerminalTelemetry, birth_now
from harness.loadgen.terminal import SimulatedTerminal

REPORTS_AT_ONCE = 64
"""Health reports handed to the boards in one turn of the driver's loop at most (each a put on a queue): a burst
is spread over a few turns, so that answers are still read between them."""
_FINISH_S = 30.0


class DriverTelemetry:
    """Made with the driver's terminals (each gets its reporter, of this run's birth) and their installation
    folders (the boards' process loads the same keys); `flush` writes out what a terminal's client has queued.
    In the window, a report due is ordered from the boards (`harness.loadgen.boards`) and published on the
    terminal's own connection when it comes back signed. Counts what it sends, how late, and the boards' CPU, in
    `report`."""

    def __init__(self, terminals: Sequence[SimulatedTerminal], folders: Sequence[str], report: DriverReport,
                 flush: Callable[[SimulatedTerminal], None]) -> None:
        birth = birth_now()
        for terminal in terminals:
            terminal.telemetry = TerminalTelemetry(terminal.installation, birth)
        self._terminals = list(terminals)
        self._report = report
        self._flush = flush
        self._reporting: list[int] = []
        self._plan: TelemetryPlan | None = None
        self._done = False
        self.boards = Boards(folders)

    def announce(self, poll: Callable[[float], None], timeout: float) -> None:
        """As a terminal does on connecting, each connected one's birth (retained, QoS 1) and first health report
        (both signed here, before the window); returns once the broker acknowledged every birth (or after
        `timeout`)."""
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
            telemetry = terminal.telemetry
            self._report.reports_before += self._publish(
                terminal, telemetry.report(terminal.counts, terminal.last_rtt_ms))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(info.is_published() for info in births):
            poll(0.1)
        self._report.births_sent = sum(info.is_published() for info in births)

    def start(self, interval_s: float, burst: float, phase: float, started: float) -> None:
        """The window begins at `started` (monotonic): the connected terminals report from now on."""
        self._reporting = [index for index, t in enumerate(self._terminals)
                           if t.telemetry is not None and t.subscribed]
        if self._reporting:
            self._plan = TelemetryPlan(len(self._reporting), interval_s, burst, phase, started)

    def next_at(self) -> float | None:
        return None if self._plan is None else self._plan.next_at()

    def send_due(self, now: float) -> None:
        """Order from the boards the reports due by `now` (at most REPORTS_AT_ONCE; the rest at the next turn)."""
        at = self.next_at()
        if self._plan is None or at is None or at > now:
            return
        for place, change in self._plan.due(now, REPORTS_AT_ONCE):
            index = self._reporting[place]
            terminal = self._terminals[index]
            telemetry = terminal.telemetry
            assert telemetry is not None
            if change:
                telemetry.printer = PrinterState.NO_PAPER
            self.boards.ask(telemetry.order(index, terminal.counts, terminal.last_rtt_ms, now, change))

    def take_signed(self) -> None:
        """Publish what the boards have signed (the driver's selector saw their connection readable)."""
        for item in self.boards.take():
            if isinstance(item, BoardsDone):
                self._report.telemetry_cpu_s = item.cpu_s
                self._done = True
                continue
            terminal = self._terminals[item.index]
            if self._publish(terminal, item.payload):
                self._report.reports_sent += 1
                self._report.burst_sent += item.change
                self._report.report_lags_ms.append((time.monotonic() - item.due) * 1000)

    def finish(self, poll: Callable[[float], None]) -> None:
        """After the window: publish every report already ordered, then end the boards' process."""
        self.boards.stop()
        deadline = time.monotonic() + _FINISH_S
        while not self._done and time.monotonic() < deadline:
            poll(0.05)
        if not self._done:
            self._report.errors["the boards did not finish in time"] += 1
        self.boards.join()

    def _publish(self, terminal: SimulatedTerminal, payload: bytes) -> bool:
        """A signed health report on the terminal's own telemetry topic (QoS 0)."""
        telemetry = terminal.telemetry
        assert telemetry is not None
        info = terminal.client.publish(telemetry.topic, payload, qos=0)
        self._flush(terminal)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._report.errors[f"telemetry publish refused ({info.rc})"] += 1
            return False
        return True
