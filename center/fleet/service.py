"""The fleet service: its own MQTT listener for the district's status and telemetry, the store, the alert rules."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType

from center.config import CenterConfig
from center.enrolled import EnrolledTerminal
from center.fleet.alerts import Alert, AlertState, AuditDetail, AuditKind, reconcile
from center.fleet.figures import hour_of
from center.fleet.intake import Accepted, Refused, Stale, take
from center.fleet.model import HourCounts, Outcome, RefusalReason, TerminalRecord
from center.fleet.priority import yield_to_voters
from center.fleet.rules import findings
from center.fleet.settings import FleetSettings, fleet_location
from center.fleet.snapshot import FleetSnapshot, IntakeCounts, snapshot_of
from center.fleet.store import FleetStore, FleetStoreError, Save, open_fleet_store
from center.fleet.writer import IntakeWriter
from center.registry import Clock, utc_now
from protocol.mqtt import MqttSession
from protocol.telemetry import HealthReport
from protocol.topics import status_topic, telemetry_topic

log = logging.getLogger(__name__)
Watcher = Callable[[], None]
HISTORY_WAIT_S = 5.0


def subscriptions(district: str) -> list[str]:
    """Every terminal's status (retained births and wills) and health reports of the district."""
    return [status_topic(district, "+"), telemetry_topic(district, "+")]


class FleetService:
    """One listener thread (the MQTT session's) applies messages to the fleet's view and hands their saves to the
    writer's thread (`IntakeWriter`), which keeps them in batches; one evaluator thread runs the rules every
    `evaluate_every_s` and after each change, opening and closing alerts. All of them only count and log what
    goes wrong (a bad message, the store unreachable): none stops for it."""

    def __init__(self, config: CenterConfig, settings: FleetSettings, enrolled: Mapping[str, EnrolledTerminal],
                 clock: Clock = utc_now, store: FleetStore | None = None) -> None:
        self.district = config.district
        self._config = config
        self._settings = settings
        self._enrolled = enrolled
        self._clock = clock
        self._store = store
        self._writer: IntakeWriter | None = None
        self._lock = threading.Lock()
        self._alerts_lock = threading.Lock()
        self._records: dict[str, TerminalRecord] = {}
        self._hours: dict[tuple[str, datetime], HourCounts] = {}
        self._alerts: dict[int, Alert] = {}
        self._outcomes: Counter[Outcome] = Counter()
        self._refused: Counter[RefusalReason] = Counter()
        self._watchers: list[Watcher] = []
        self._since = clock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._evaluator = threading.Thread(target=self._evaluate_loop, name="fleet-rules", daemon=True)
        tls = None if config.tls is None else config.tls.files(settings.identity)
        self.session = MqttSession(settings.identity, config.broker, subscriptions(config.district),
                                   self._on_message, tls=tls, session_expiry=0)

    @property
    def settings(self) -> FleetSettings:
        return self._settings

    @property
    def store(self) -> FleetStore:
        if self._store is None:
            raise RuntimeError("the fleet service has not been started")
        return self._store

    def start(self) -> None:
        """Open the store and load what it holds, then listen (the broker hands over every retained status at
        once) and run the rules."""
        if self._store is None:
            self._store = open_fleet_store(fleet_location(self._config, self._settings), self.district,
                                           self._settings.keep)
        stored = self._store.load()
        self._since = self._clock()
        with self._lock:
            self._records = dict(stored.records)
            self._hours = {(h.terminal, h.hour): h for h in stored.hours}
            self._alerts = {a.id: a for a in self._store.alerts(self._since - self._settings.closed_shown)}
        self._enrol_new()
        self._writer = IntakeWriter(self._store.save, self._settings.save_batch, self._settings.save_gather_s,
                                    self._settings.save_queue,
                                    lambda: yield_to_voters(self._settings.nice, self._settings.idle))
        self._writer.start()
        self.session.start()
        self._evaluator.start()

    def wait_connected(self, timeout: float) -> bool:
        return self.session.wait_connected(timeout)

    def alive(self) -> bool:
        return (self.session.alive and self._evaluator.is_alive() and self._writer is not None
                and self._writer.alive())

    def stop(self) -> None:
        """Stop listening, keep the saves still queued, then close the store."""
        self._stopping.set()
        self._wake.set()
        self.session.stop()
        if self._evaluator.is_alive():
            self._evaluator.join(timeout=10)
        if self._writer is not None:
            self._writer.stop()
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> FleetService:
        self.start()
        return self

    def __exit__(self, _type: type[BaseException] | None, _value: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.stop()

    def snapshot(self) -> FleetSnapshot:
        with self._lock:
            records, hours = list(self._records.values()), list(self._hours.values())
        intake = self.intake_counts()
        with self._alerts_lock:
            alerts = list(self._alerts.values())
        return snapshot_of(self.district, records, hours, alerts, intake, self._settings.rules, self._since,
                           self._clock())

    def intake_counts(self) -> IntakeCounts:
        unsaved = 0 if self._writer is None else self._writer.unsaved
        with self._lock:
            return IntakeCounts(dict(self._outcomes), dict(self._refused), unsaved)

    def history(self, terminal: str, limit: int = 20) -> list[tuple[datetime, HealthReport]]:
        """The terminal's newest reports in the store, once the saves queued before this call are kept (or, after
        `HISTORY_WAIT_S`, as the store has them)."""
        if self._writer is not None:
            self._writer.flush(HISTORY_WAIT_S)
        return self.store.history(terminal, limit)

    def acknowledge(self, alert_id: int, staff: str) -> Alert | None:
        """Staff acknowledge an open alert (audited); None if it is not open or not acknowledgeable any more."""
        with self._alerts_lock:
            try:
                alert = self.store.acknowledge(alert_id, staff, self._clock())
            except FleetStoreError as exc:
                log.error("acknowledging alert %d: the fleet store failed: %s", alert_id, exc)
                return None
            if alert is not None:
                self._alerts[alert.id] = alert
        if alert is not None:
            self._notify()
        return alert

    def audit(self, kind: AuditKind, detail: AuditDetail) -> None:
        """An entry in the fleet's hash-chained audit log (the dashboard's sign-ins and refusals)."""
        try:
            self.store.audit(kind, detail, self._clock())
        except FleetStoreError as exc:
            log.error("audit entry %s lost: the fleet store failed: %s", kind.value, exc)

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` (from the service's threads) after each change; returns the way to stop."""
        with self._lock:
            self._watchers.append(watcher)

        def unwatch() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return unwatch

    def evaluate(self) -> None:
        """Run the rules once now: open the alerts of new conditions, close those whose condition cleared."""
        now = self._clock()
        self._enrol_new()
        with self._lock:
            records = list(self._records.values())
        found = findings(records, self._settings.rules, self._since, now)
        changed = False
        with self._alerts_lock:
            todo = reconcile(self._alerts.values(), found)
            if todo.to_open or todo.to_close:
                opened, closed = self.store.change_alerts(todo.to_open, todo.to_close, now)
                for alert in (*opened, *closed):
                    self._alerts[alert.id] = alert
                changed = True
            self._prune_closed(now)
        if changed:
            self._notify()

    def _prune_closed(self, now: datetime) -> None:
        closed = sorted((a for a in self._alerts.values() if a.state is AlertState.CLOSED), key=lambda a: -a.id)
        for index, alert in enumerate(closed):
            if index >= self._settings.closed_kept or (alert.closed_at is not None
                                                       and now - alert.closed_at > self._settings.closed_shown):
                del self._alerts[alert.id]

    def _enrol_new(self) -> None:
        """Terminals enrolled since (or before) start but never heard: on the board as never heard. Only the names
        not on the board yet are looked up (a lookup reads the record's file)."""
        with self._lock:
            known = set(self._records)
        for terminal in [name for name in self._enrolled if name not in known]:
            enrolment = self._enrolled.get(terminal)
            if enrolment is None or enrolment.district != self.district:
                continue
            with self._lock:
                if terminal not in self._records:
                    self._records[terminal] = TerminalRecord(terminal, enrolment.branch, self.district)

    def _on_message(self, topic: str, payload: bytes) -> None:
        yield_to_voters(self._settings.nice, self._settings.idle)
        now = self._clock()
        try:
            decision = take(topic, payload, self.district, self._enrolled, self._records.get, now)
        except Exception as exc:  # a bug in the intake: alarm, count, and go on with the next message
            log.exception("ALARM: the fleet intake raised on a message of %s", topic[:80])
            decision = Refused(RefusalReason.HANDLER_FAULT, type(exc).__name__)
        seen = 0
        with self._lock:
            if isinstance(decision, Accepted):
                record = decision.record
                self._records[record.terminal] = record
                if decision.report is not None:
                    hour = hour_of(now)
                    counts = decision.report.counters
                    self._hours[(record.terminal, hour)] = HourCounts(record.terminal, hour, counts.issued,
                                                                      counts.duplicates_refused)
                self._outcomes[Outcome.APPLIED] += 1
            elif isinstance(decision, Stale):
                self._outcomes[Outcome.STALE] += 1
            else:
                self._outcomes[Outcome.REFUSED] += 1
                self._refused[decision.reason] += 1
                seen = self._refused[decision.reason]
        if isinstance(decision, Refused) and (seen & (seen - 1)) == 0:
            log.warning("telemetry refused: %s (%s); %d so far for this reason", decision.reason.value,
                        decision.detail, seen)
        if isinstance(decision, Accepted):
            if self._writer is not None:
                self._writer.put(Save(decision.record, decision.report, now))
            self._wake.set()
            self._notify()

    def _evaluate_loop(self) -> None:
        """Each round waits for a change or `evaluate_every_s`, but never runs sooner than `evaluate_gap_s` after
        the last: under a flood of reports the rules must not take the intake's CPU."""
        yield_to_voters(self._settings.nice, self._settings.idle)
        while not self._stopping.is_set():
            self._wake.wait(self._settings.evaluate_every_s)
            if self._stopping.wait(self._settings.evaluate_gap_s):
                return
            self._wake.clear()
            try:
                self.evaluate()
            except FleetStoreError as exc:
                log.error("the alert rules could not record their alerts: %s; trying again", exc)
            except Exception:  # a bug in the rules: alarm and try again at the next round
                log.exception("ALARM: the fleet's alert rules raised")

    def _notify(self) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher()
            except Exception:
                log.exception("a fleet watcher raised")
