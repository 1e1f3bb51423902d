"""One driver process of the load generator: its terminals' MQTT sessions (paho, each with the terminal's own
certificate) in one selector loop, each terminal playing its visits one at a time, as a terminal does."""

from __future__ import annotations

import contextlib
import gc
import heapq
import logging
import secrets
import selectors
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from harness.loadgen.plan import Step, Visit
from harness.loadgen.report import DriverReport
from harness.loadgen.reporting import DriverTelemetry
from harness.loadgen.terminal import SimulatedTerminal, Try, load_installations
from protocol.codec import ProtocolError
from protocol.messages import (
    AnswerBody,
    CommitAnswer,
    CommitBody,
    CommitOutcome,
    DocumentKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidAnswer,
    VoidBody,
    VoidOutcome,
    VoidReason,
)
from protocol.mqtt import BrokerAddress
from protocol.national_code import NationalCode
from protocol.seal import open_answer, seal_national_code
from protocol.topics import answer_topic

log = logging.getLogger(__name__)

KEEPALIVE_S = 60
_MISC_EVERY_S = 5.0
_CONNECT_S = 120.0


@dataclass(frozen=True)
class DriverSpec:
    """A driver's share of the run: the installation folders of its terminals, each one's visits, the rate at
    which it starts visits (None: each terminal back to back), for how long, and how it waits for answers."""

    number: int
    broker: BrokerAddress
    folders: tuple[str, ...]
    steps: tuple[tuple[Step, ...], ...]
    rate: float | None
    seconds: float
    answer_timeout: float
    tries: int
    presign: bool
    max_active: int | None = None
    """At most this many visits under way at once in this driver (None: no bound; a closed loop when the rate is
    None too). The terminals still take turns, so every one of them plays."""
    telemetry_interval_s: float | None = None
    """With a telemetry load: each terminal's health report every this many seconds (None: no telemetry)."""
    telemetry_burst: float = 0.0
    """The share of the terminals whose printer runs out of paper at half the interval, each reporting at once."""
    telemetry_phase: float = 0.0
    """This driver's place in the fleet's stagger, as a share of one step (driver number / drivers)."""


class Driver:
    """The selector loop of one driver process over its terminals' paho clients (no paho thread)."""

    def __init__(self, spec: DriverSpec) -> None:
        self.spec = spec
        self.report = DriverReport()
        self._selector = selectors.DefaultSelector()
        self._terminals: list[SimulatedTerminal] = []
        for installation, steps in zip(load_installations(spec.folders), spec.steps, strict=True):
            self._terminals.append(SimulatedTerminal(installation, steps))
        self.report.terminals = len(self._terminals)
        self._telemetry = (None if spec.telemetry_interval_s is None else
                           DriverTelemetry(self._terminals, spec.folders, self.report, self._flush))
        if self._telemetry is not None:
            self._selector.register(self._telemetry.boards.results.fileno(), selectors.EVENT_READ,
                                    self._telemetry.take_signed)
        self._deadlines: list[tuple[float, int, SimulatedTerminal]] = []
        self._sequence = 0
        self._idle: deque[SimulatedTerminal] = deque()
        self._issued: list[tuple[str, str]] = []
        """(terminal, national code) of each slip issued in this driver: the voters DUPLICATE visits ask for."""
        self._active = 0
        self._stop_starting = False
        self._waiting: list[SimulatedTerminal] = []
        """Terminals whose next visit is a DUPLICATE, waiting for a slip issued by another terminal."""

    def connect(self) -> int:
        """Connect every terminal (TLS handshake with its certificate) and subscribe it to its answers."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 0
        for terminal in self._terminals:
            client = terminal.client
            client.on_connect = self._connected
            client.on_subscribe = self._subscribed
            client.on_message = self._message
            client.on_disconnect = self._disconnected
            try:
                client.connect(self.spec.broker.host, self.spec.broker.port, keepalive=KEEPALIVE_S,
                               clean_start=True, properties=properties)
            except OSError as exc:
                self.report.errors[f"connect: {type(exc).__name__}"] += 1
                continue
            sock = client.socket()
            if isinstance(sock, socket.socket):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._selector.register(sock, selectors.EVENT_READ, terminal)
        deadline = time.monotonic() + _CONNECT_S
        while time.monotonic() < deadline and not all(t.subscribed for t in self._terminals if t.client.socket()):
            self._poll(0.1)
        self.report.connected = sum(t.subscribed for t in self._terminals)
        if self._telemetry is not None:
            self._telemetry.announce(self._poll, _CONNECT_S)
        for index, terminal in enumerate(self._terminals):
            if self.spec.presign:
                terminal.presign(index)
        return self.report.connected

    def play(self) -> DriverReport:
        """Start visits (at the rate, or back to back) until they run out or the time is up; wait for the last.
        With telemetry, each terminal reports when due all the while."""
        report = self.report
        self._idle.extend(t for t in self._terminals if t.subscribed and t.steps)
        started = time.monotonic()
        telemetry = self._telemetry
        if telemetry is not None and self.spec.telemetry_interval_s is not None:
            telemetry.start(self.spec.telemetry_interval_s, self.spec.telemetry_burst, self.spec.telemetry_phase,
                            started)
        cpu = time.process_time()
        report.started_at = time.time()
        collecting = _CollectorPauses(report.collector_pauses_ms)
        gc.callbacks.append(collecting)
        interval = None if self.spec.rate is None else 1.0 / self.spec.rate
        next_start = started
        last_misc = started
        hard_end = started + self.spec.seconds + self.spec.answer_timeout * self.spec.tries + 5
        while True:
            now = time.monotonic()
            if now - started >= self.spec.seconds:
                self._stop_starting = True
            if not self._stop_starting:
                if interval is None:
                    while self._idle and self._room():
                        self._start(self._idle.popleft())
                else:
                    next_start = max(next_start, now - 1.0)
                    while self._idle and next_start <= now and self._room():
                        self._start(self._idle.popleft())
                        next_start += interval
            if self._active == 0 and (self._stop_starting or not self._idle):
                break
            if now > hard_end:
                report.abandoned += self._active
                break
            self._expire(now)
            if telemetry is not None:
                telemetry.send_due(now)
            if now - last_misc > _MISC_EVERY_S:
                last_misc = now
                for terminal in self._terminals:
                    terminal.client.loop_misc()
            wait = 0.05
            if interval is not None and self._idle and self._room() and not self._stop_starting:
                wait = max(0.0, min(wait, next_start - time.monotonic()))
            if self._deadlines:
                wait = min(wait, max(0.0, self._deadlines[0][0] - time.monotonic()))
            report_at = None if telemetry is None else telemetry.next_at()
            if report_at is not None:
                wait = min(wait, max(0.0, report_at - time.monotonic()))
            self._poll(wait)
        report.cpu_s = time.process_time() - cpu
        gc.callbacks.remove(collecting)
        if telemetry is not None:
            telemetry.finish(self._poll)
        report.duplicates_skipped += sum(len(t.steps) for t in self._waiting)
        self._stop_starting = True
        for terminal in self._terminals:
            terminal.client.disconnect()
        self._poll(0.2)
        return report

    def _room(self) -> bool:
        return self.spec.max_active is None or self._active < self.spec.max_active

    def _start(self, terminal: SimulatedTerminal) -> None:
        step = terminal.steps.popleft()
        terminal.visit = step
        terminal.inquiry_code = ""
        if step.code is None:
            others = [code for name, code in self._issued if name != terminal.name]
            if not others:  # later, once another terminal of this driver has issued a slip
                terminal.visit = None
                if any(later.code is not None for later in terminal.steps):
                    terminal.steps.append(step)
                    self._idle_again(terminal)
                else:
                    terminal.steps.appendleft(step)
                    self._waiting.append(terminal)
                return
            terminal.national = others[secrets.randbelow(len(others))]
            terminal.tx = secrets.token_hex(16)
            first = terminal.reserve(terminal.national, terminal.tx)
        else:
            terminal.national = step.code
            if self.spec.presign:
                terminal.tx, first, _ = terminal.signed[0]
            else:
                terminal.tx = secrets.token_hex(16)
                first = terminal.reserve(step.code, terminal.tx)
        self._active += 1
        self._send(terminal, first)

    def _send(self, terminal: SimulatedTerminal, attempt: Try) -> None:
        attempt.tries += 1
        attempt.sent = time.monotonic()
        self._sequence += 1
        attempt.sequence = self._sequence
        terminal.pending = attempt
        info = terminal.client.publish(terminal.requests, attempt.payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.report.errors[f"publish refused ({info.rc})"] += 1
        heapq.heappush(self._deadlines, (attempt.sent + self.spec.answer_timeout, attempt.sequence, terminal))
        self._flush(terminal)

    def _expire(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, sequence, terminal = heapq.heappop(self._deadlines)
            attempt = terminal.pending
            if attempt is None or attempt.sequence != sequence:
                continue
            self.report.no_answers[attempt.label] += 1
            if attempt.tries < self.spec.tries:
                self._send(terminal, attempt)
            else:
                self.report.abandoned += 1
                terminal.pending = None
                self._finish(terminal)

    def _finish(self, terminal: SimulatedTerminal) -> None:
        if terminal.visit is not None and terminal.visit.code is not None and self.spec.presign:
            terminal.signed.popleft()
        terminal.visit = None
        self._active -= 1
        self.report.visits += 1
        self._idle_again(terminal)

    def _idle_again(self, terminal: SimulatedTerminal) -> None:
        if terminal.steps:
            self._idle.append(terminal)

    def _poll(self, timeout: float) -> None:
        for key, mask in self._selector.select(timeout):
            if not isinstance(key.data, SimulatedTerminal):
                key.data()
                continue
            terminal: SimulatedTerminal = key.data
            client = terminal.client
            if mask & selectors.EVENT_READ:
                rc = client.loop_read()
                sock = client.socket()
                while rc == mqtt.MQTT_ERR_SUCCESS and isinstance(sock, ssl.SSLSocket) and sock.pending():
                    rc = client.loop_read()
            if mask & selectors.EVENT_WRITE:
                client.loop_write()
            self._flush(terminal)

    def _flush(self, terminal: SimulatedTerminal) -> None:
        client = terminal.client
        sock = client.socket()
        if sock is None or not isinstance(sock, socket.socket):
            return
        if client.want_write():
            client.loop_write()
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.want_write() else 0)
        try:
            if self._selector.get_key(sock).events != events:
                self._selector.modify(sock, events, terminal)
        except (KeyError, ValueError):
            return

    def _connected(self, client: mqtt.Client, terminal: SimulatedTerminal, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self.report.errors[f"connection refused: {reason}"] += 1
            return
        client.subscribe(answer_topic(terminal.installation.district, terminal.name), qos=1)

    def _subscribed(self, _client: mqtt.Client, terminal: SimulatedTerminal, _mid: int, reasons: Any, _props: Any) -> None:
        if all(not reason.is_failure for reason in reasons):
            terminal.subscribed = True
        else:
            self.report.errors["subscription refused"] += 1

    def _disconnected(self, _client: mqtt.Client, terminal: SimulatedTerminal, _flags: Any, reason: Any, _props: Any
                      ) -> None:
        sock = terminal.client.socket()
        if sock is not None and isinstance(sock, socket.socket):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
        if not self._stop_starting:
            self.report.errors[f"disconnected: {reason}"] += 1

    def _message(self, _client: mqtt.Client, terminal: SimulatedTerminal, message: mqtt.MQTTMessage) -> None:
        answer = open_answer(bytes(message.payload), terminal.installation.center_signing_key)
        if isinstance(answer, ProtocolError):
            self.report.errors["answer does not verify"] += 1
            return
        attempt = terminal.pending
        if attempt is None or answer.header.request_id != attempt.request_id:
            self.report.late_answers += 1
            return
        if answer.header.tx_id != terminal.tx or answer.header.terminal != terminal.name:
            self.report.errors["answer bound to another transaction or terminal"] += 1
            return
        now = time.monotonic()
        self.report.ended_at = time.time()
        took = (now - attempt.sent) * 1000
        terminal.last_rtt_ms = took
        self.report.round_trips_ms.append(took)
        self.report.requests_answered += 1
        if attempt.label in ("reserve", "retry"):
            self.report.reserve_round_trips_ms.append(took)
            self.report.reserve_sent_at.append(self.report.ended_at - took / 1000)
            self.report.reserves_answered += 1
        terminal.pending = None
        self._advance(terminal, attempt.label, answer.body)

    def _advance(self, terminal: SimulatedTerminal, label: str, body: AnswerBody) -> None:
        visit = terminal.visit
        assert visit is not None
        report = self.report
        match label, body:
            case "reserve", ReserveAnswer(outcome=outcome, inquiry_code=code):
                expected = {Visit.DUPLICATE: ReserveOutcome.DUPLICATE,
                            Visit.INELIGIBLE: ReserveOutcome.INELIGIBLE}.get(visit.visit, ReserveOutcome.ELIGIBLE)
                if outcome is not expected:
                    report.errors[f"{visit.visit.value}: reserve answered {outcome.value}"] += 1
                if outcome is ReserveOutcome.ELIGIBLE and code is not None:
                    report.eligible += 1
                    terminal.inquiry_code = code
                    if visit.visit is Visit.RETRIED and self.spec.presign and terminal.signed[0][2] is not None:
                        second = terminal.signed[0][2]
                        self._send(terminal, second)
                    elif visit.visit is Visit.RETRIED:
                        self._send(terminal, Try("retry", *terminal.request(ReserveBody(
                            seal_national_code(NationalCode(terminal.national),
                                               terminal.installation.center_sealing_key),
                            DocumentKind.SMART_CARD, False), terminal.tx)))
                    elif visit.visit in (Visit.VOIDED, Visit.DUPLICATE, Visit.INELIGIBLE):
                        self._send(terminal, Try("void", *terminal.request(VoidBody(VoidReason.VOTER_LEFT),
                                                                            terminal.tx)))
                    else:
                        self._commit(terminal)
                    return
                if outcome is ReserveOutcome.DUPLICATE and expected is outcome:
                    report.duplicates_refused += 1
                    terminal.counts["duplicates_refused"] += 1
                elif outcome is ReserveOutcome.INELIGIBLE and expected is outcome:
                    report.ineligible_refused += 1
                    terminal.counts["ineligible"] += 1
            case "retry", ReserveAnswer(outcome=outcome, inquiry_code=code):
                if outcome is ReserveOutcome.ELIGIBLE and code == terminal.inquiry_code:
                    report.retries_same_code += 1
                    self._commit(terminal)
                    return
                report.errors[f"retried: answered {outcome.value} with {'the same' if code == terminal.inquiry_code else 'another'} code"] += 1
            case "commit", CommitAnswer(outcome=outcome):
                if outcome is CommitOutcome.COMMITTED:
                    report.committed += 1
                    terminal.counts["issued"] += 1
                    report.issued[terminal.tx] = terminal.inquiry_code
                    self._issued.append((terminal.name, terminal.national))
                    self._idle.extend(self._waiting)
                    self._waiting.clear()
                else:
                    report.errors[f"commit answered {outcome.value}"] += 1
            case "void", VoidAnswer(outcome=outcome):
                if outcome is VoidOutcome.VOIDED:
                    report.voided += 1
                    terminal.counts["voided"] += 1
                    report.voided_tx.append(terminal.tx)
                else:
                    report.errors[f"void answered {outcome.value}"] += 1
            case _:
                report.errors[f"{label}: an answer of another kind"] += 1
        self._finish(terminal)

    def _commit(self, terminal: SimulatedTerminal) -> None:
        self._send(terminal, Try("commit", *terminal.request(CommitBody(terminal.inquiry_code, 0), terminal.tx)))


class _CollectorPauses:
    """A `gc.callbacks` entry: how long each pass of the cyclic collector takes, in ms, appended to `into`."""

    def __init__(self, into: list[float]) -> None:
        self._into = into
        self._began = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self._into.append((time.perf_counter() - self._began) * 1000)


def run(spec: DriverSpec, ready: Queue[tuple[int, int]], go: Event, done: Queue[DriverReport]) -> None:
    """A driver process (multiprocessing target): connect, say how many are connected, wait for the go, play."""
    driver = Driver(spec)
    ready.put((spec.number, driver.connect()))
    # A thousand terminals' clients, keys and plans live until the end: frozen out of the cyclic collector, whose
    # full passes over them stalled this loop 60-70 ms at the window's start and so lengthened the round trips
    # it was timing.
    gc.collect()
    gc.freeze()
    if not go.wait(_CONNECT_S * 2):
        done.put(driver.report)
        return
    done.put(driver.play())
