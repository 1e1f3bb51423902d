"""The fleet service through the district's real mTLS broker: births, reports, the will of a SIGKILLed terminal, a
stale will, forged and cross-terminal telemetry refused by the ACL and by signature, hostile bytes refused without
harm, and alerts opening and closing as terminals change."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from center.fleet import FleetService, FleetSettings
from center.fleet.alerts import AlertState, AuditKind
from center.fleet.model import Outcome, RefusalReason, TerminalRecord
from center.fleet.priority import thread_idle
from center.fleet.rules import Condition, RuleSettings
from center.fleet.sqlite_store import SqliteFleetStore
from center.fleet.store import DEFAULT_KEEP, FleetStoreError, Save, broken_at, open_fleet_store
from protocol.mqtt import MqttSession
from protocol.seal import HEALTH_TYPE, generate_signing_key
from protocol.telemetry import LinkState
from protocol.topics import status_topic, telemetry_topic
from tests.center.fleet.conftest import FLEET_IDENTITY, FleetDistrict
from tests.center.fleet.samples import APPROVED, Clock, Terminal, eventually, key_of, signed_raw
from tests.center.sample import ELECTION_DAY

pytestmark = pytest.mark.real_peer
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Fleet:
    district: FleetDistrict
    service: FleetService
    clock: Clock
    terminals: dict[str, Terminal]

    def record(self, terminal: str) -> TerminalRecord:
        return next(v.record for v in self.service.snapshot().terminals if v.record.terminal == terminal)

    def applied(self) -> int:
        return self.service.intake_counts().outcomes.get(Outcome.APPLIED, 0)

    def refused(self, reason: RefusalReason) -> int:
        return self.service.intake_counts().refused.get(reason, 0)

    def wait_applied(self, count: int) -> None:
        eventually(lambda: self.applied() >= count,
                   lambda: f"{count} messages not applied: {self.service.intake_counts()}")

    def live_alert(self, terminal: str, condition: Condition) -> bool:
        return any(a.subject.terminal == terminal and a.condition is condition and a.state is not AlertState.CLOSED
                   for a in self.service.snapshot().alerts)


@pytest.fixture
def fleet(fleet_district: FleetDistrict, tmp_path: Path) -> Iterator[Fleet]:
    terminals = {name: Terminal(name, branch, fleet_district.district)
                 for name, branch in (("T-1", "B-1"), ("T-2", "B-1"), ("T-3", "B-2"))}
    clock = Clock()
    rules = RuleSettings(ELECTION_DAY, approved_software=frozenset({APPROVED}))
    settings = FleetSettings(FLEET_IDENTITY, rules, evaluate_every_s=0.2, evaluate_gap_s=0.05)
    service = FleetService(fleet_district.center_config(tmp_path / "registry.sqlite"), settings,
                           {name: t.enrolment() for name, t in terminals.items()}, clock)
    service.start()
    assert service.wait_connected(10), "the fleet listener did not connect"
    yield Fleet(fleet_district, service, clock, terminals)
    service.stop()


class FlakyStore(SqliteFleetStore):
    """The embedded store, whose saves fail while `down` is set (the database unreachable)."""

    def __init__(self, path: Path, district: str) -> None:
        super().__init__(path, district, DEFAULT_KEEP)
        self.down = threading.Event()

    def save(self, saves: Sequence[Save]) -> None:
        if self.down.is_set():
            raise FleetStoreError("OperationalError: the store is down")
        super().save(saves)


@contextlib.contextmanager
def connected(fleet: Fleet, terminal: str) -> Iterator[MqttSession]:
    session = fleet.district.publisher(terminal)
    try:
        yield session
    finally:
        session.stop()


def test_birth_and_reports_are_kept_and_a_stale_will_after_a_newer_birth_is_ignored(fleet: Fleet) -> None:
    one = fleet.terminals["T-1"]
    one.birth = 5
    with connected(fleet, "T-1") as session:
        session.publish(status_topic(one.district, "T-1"), one.signed(one.status()), retain=True, wait=5)
        session.publish(telemetry_topic(one.district, "T-1"), one.signed(one.health()), wait=5)
        fleet.wait_applied(2)
        old_will = one.signed(one.status(LinkState.OFFLINE, birth=4))
        session.publish(status_topic(one.district, "T-1"), old_will, retain=True, wait=5)
        eventually(lambda: fleet.service.intake_counts().outcomes.get(Outcome.STALE, 0) >= 1,
                   lambda: f"the stale will was not seen: {fleet.service.intake_counts()}")
    record = fleet.record("T-1")
    assert record.link is LinkState.ONLINE and record.status is not None and record.status.birth == 5
    assert record.health is not None and record.health.seq == 1
    assert [report.seq for _, report in fleet.service.history("T-1")] == [1]
    process = os.getpriority(os.PRIO_PROCESS, os.getpid())
    lowered = {thread.name: os.getpriority(os.PRIO_PROCESS, thread.native_id) for thread in threading.enumerate()
               if thread.native_id is not None and (thread.name in ("fleet-rules", "fleet-writer")
                                                   or thread.name.startswith("paho"))}
    assert {"fleet-rules", "fleet-writer"} <= set(lowered) and any(name.startswith("paho") for name in lowered)
    assert set(lowered.values()) == {min(19, process + fleet.service.settings.nice)}, \
        f"the fleet's listener, writer and rules run below the workers: {lowered}"
    idle = {thread.name: thread_idle(thread.native_id) for thread in threading.enumerate()
            if thread.native_id is not None and thread.name in lowered}
    assert fleet.service.settings.idle and all(idle.values()), f"the fleet's threads run under SCHED_IDLE: {idle}"


def test_reports_the_store_does_not_take_are_applied_counted_unsaved_and_the_next_report_is_kept(
        fleet_district: FleetDistrict, tmp_path: Path) -> None:
    one = Terminal("T-1", "B-1", fleet_district.district)
    store = FlakyStore(tmp_path / "fleet.sqlite", fleet_district.district)
    settings = FleetSettings(FLEET_IDENTITY, RuleSettings(ELECTION_DAY, approved_software=frozenset({APPROVED})))
    service = FleetService(fleet_district.center_config(tmp_path / "registry.sqlite"), settings,
                           {"T-1": one.enrolment()}, store=store)
    service.start()
    try:
        assert service.wait_connected(10), "the fleet listener did not connect"
        fleet = Fleet(fleet_district, service, Clock(), {"T-1": one})
        with connected(fleet, "T-1") as session:
            session.publish(status_topic(one.district, "T-1"), one.signed(one.status()), retain=True, wait=5)
            session.publish(telemetry_topic(one.district, "T-1"), one.signed(one.health()), wait=5)
            fleet.wait_applied(2)
            assert [report.seq for _, report in service.history("T-1")] == [1]
            store.down.set()
            session.publish(telemetry_topic(one.district, "T-1"), one.signed(one.health(printer="no_paper")), wait=5)
            fleet.wait_applied(3)
            eventually(lambda: service.intake_counts().unsaved == 1,
                       lambda: f"the lost save is not counted: {service.intake_counts()}")
            seen = fleet.record("T-1").health
            assert seen is not None and seen.seq == 2, "the view holds the report the store did not take"
            assert service.snapshot().intake.unsaved == 1 and service.alive()
            store.down.clear()
            session.publish(telemetry_topic(one.district, "T-1"), one.signed(one.health()), wait=5)
            fleet.wait_applied(4)
            assert [report.seq for _, report in service.history("T-1")] == [3, 1], \
                "the next report is kept; only the lost one's place in the history is missing"
            assert service.intake_counts().unsaved == 1
    finally:
        service.stop()
    again = open_fleet_store(tmp_path / "fleet.sqlite", fleet_district.district)
    kept = again.load().records["T-1"].health
    again.close()
    assert kept is not None and kept.seq == 3


def test_the_will_of_a_sigkilled_terminal_marks_it_offline(fleet: Fleet, tmp_path: Path) -> None:
    two = fleet.terminals["T-2"]
    two.birth = 3
    tls = fleet.district.terminal_tls("T-2")
    (tmp_path / "birth").write_bytes(two.signed(two.status()))
    (tmp_path / "will").write_bytes(two.signed(two.status(LinkState.OFFLINE)))
    address = fleet.district.broker.address
    plan = {"host": address.host, "port": address.port, "ca": str(tls.ca_file), "cert": str(tls.cert_file),
            "key": str(tls.key_file), "client_id": "T-2", "topic": status_topic(two.district, "T-2"),
            "birth": str(tmp_path / "birth"), "will": str(tmp_path / "will")}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    child = subprocess.Popen([sys.executable, "-m", "tests.center.fleet.will_client", str(tmp_path / "plan.json")],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        eventually(lambda: fleet.record("T-2").link is LinkState.ONLINE, lambda: "the birth never arrived")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        eventually(lambda: fleet.record("T-2").link is LinkState.OFFLINE,
                   lambda: f"the broker's will never arrived: {fleet.record('T-2')}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    fleet.clock.advance(timedelta(seconds=91))
    eventually(lambda: fleet.live_alert("T-2", Condition.OFFLINE), lambda: "no offline alert after the will")


def test_forged_cross_terminal_and_hostile_telemetry_is_refused_and_the_listener_goes_on(fleet: Fleet) -> None:
    one, three = fleet.terminals["T-1"], fleet.terminals["T-3"]
    district = one.district
    with connected(fleet, "T-3") as insider:
        with connected(fleet, "T-1") as genuine:
            genuine.publish(telemetry_topic(district, "T-1"), one.signed(one.health()), wait=5)
            fleet.wait_applied(1)
            # The ACL: T-3's certificate cannot write T-1's topics; the broker drops it before the fleet sees it.
            insider.publish(telemetry_topic(district, "T-1"), one.signed(one.health(printer="no_paper")), wait=5)
            insider.publish(status_topic(district, "T-1"), one.signed(one.status(LinkState.OFFLINE)), wait=5)
        hostile = [
            (telemetry_topic(district, "T-3"), three.signed(three.health(), key=generate_signing_key()),
             RefusalReason.BAD_SIGNATURE),
            (telemetry_topic(district, "T-3"), three.signed(one.health(), key=key_of("T-3")),
             RefusalReason.CROSS_TERMINAL),
            (telemetry_topic(district, "T-3"), b"\x00" * 40_000, RefusalReason.OVERSIZED),
            (telemetry_topic(district, "T-3"), signed_raw(b'{"v":1,"kind":"health","seq":-1}', HEALTH_TYPE,
                                                           key_of("T-3")), RefusalReason.MALFORMED),
            (telemetry_topic(district, "T-3"), b"not.a.jws", RefusalReason.BAD_SIGNATURE),
            (status_topic(district, "T-3"), b"", RefusalReason.EMPTY),
        ]
        for topic, payload, _reason in hostile:
            insider.publish(topic, payload, wait=5)
        # A genuine report after the hostile ones: once it is applied, everything before it was handled.
        insider.publish(telemetry_topic(district, "T-3"), three.signed(three.health()), wait=5)
        fleet.wait_applied(2)
    for _topic, _payload, reason in hostile:
        assert fleet.refused(reason) >= 1, f"{reason} not counted: {fleet.service.intake_counts()}"
    record = fleet.record("T-1")
    assert record.link is LinkState.ONLINE and record.health is not None
    assert record.health.components[0].condition == "ready", "a forged report changed T-1"
    assert fleet.record("T-3").health is not None and fleet.service.alive()
    assert fleet.service.session.faults == 0


def test_alerts_open_and_close_as_terminals_change_and_every_step_is_audited(fleet: Fleet) -> None:
    one = fleet.terminals["T-1"]
    with connected(fleet, "T-1") as session:
        def report(**changes: object) -> None:
            session.publish(telemetry_topic(one.district, "T-1"), one.signed(one.health(**changes)),  # type: ignore[arg-type]
                            wait=5)

        report(printer="no_paper", printer_ok=False, clock_offset_ms=-9_000, tamper=1)
        for condition in (Condition.PRINTER, Condition.CLOCK, Condition.TAMPER):
            eventually(functools.partial(fleet.live_alert, "T-1", condition),
                       functools.partial(str, f"no {condition} alert"))
        printer = next(a for a in fleet.service.snapshot().alerts if a.condition is Condition.PRINTER)
        acknowledged = fleet.service.acknowledge(printer.id, "staff-1")
        assert acknowledged is not None and acknowledged.state is AlertState.ACKNOWLEDGED
        assert fleet.service.acknowledge(printer.id, "staff-1") is None, "acknowledged twice"
        report(software_hash="c" * 64, reader_ok=False)
        eventually(lambda: fleet.live_alert("T-1", Condition.SOFTWARE), lambda: "no software alert")
        eventually(lambda: not fleet.live_alert("T-1", Condition.PRINTER), lambda: "the printer alert stayed")
        for backlog in (1, 2, 3, 5):
            report(backlog=backlog)
        eventually(lambda: fleet.live_alert("T-1", Condition.BACKLOG), lambda: "no backlog alert")
        fleet.clock.advance(timedelta(seconds=91))
        eventually(lambda: fleet.live_alert("T-1", Condition.OFFLINE), lambda: "no offline alert")
        report()
        eventually(lambda: not fleet.live_alert("T-1", Condition.OFFLINE), lambda: "the offline alert stayed")
    assert fleet.live_alert("T-2", Condition.OFFLINE), "a terminal never heard is offline after 90 s"
    entries = fleet.service.store.audit_entries()
    kinds = [entry.kind for entry in entries]
    assert AuditKind.ALERT_ACKNOWLEDGED in kinds and AuditKind.ALERT_CLOSED in kinds
    assert broken_at(entries) is None
    printer_audit = [json.loads(e.detail) for e in entries if json.loads(e.detail).get("alert") == printer.id]
    assert [d.get("staff") for d in printer_audit] == [None, "staff-1", None]
