"""Telemetry intake at the district center: 2,000 terminals reporting every 30 s, plus bursts on change.

The terminals are another process (so this process's CPU time is the center's alone), publishing signed
births and health reports through a real mosquitto to the fleet service (verify, parse, supersede, store in
SQLite, alert rules). Prints the messages/s the fleet can take at most, the CPU it spends at the offered load,
the headroom left, and how long a burst takes to drain; medians of several runs."""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.enrolled import EnrolledTerminal
from center.fleet import FleetService, FleetSettings
from center.fleet.model import Outcome
from center.fleet.rules import RuleSettings
from hal.printer import PrinterState
from harness.broker import Broker
from harness.loadgen.telemetry import health_report
from protocol.messages import CloseCounts
from protocol.mqtt import BrokerAddress, MqttSession
from protocol.seal import public_part, sign_telemetry
from protocol.telemetry import HealthReport, LinkState, TerminalStatus
from protocol.topics import status_topic, telemetry_topic

DISTRICT = "d-bench"
ELECTION_DAY = date(2026, 6, 12)
INTERVAL_S = 30.0
CONNECTIONS = 4
Message = tuple[str, bytes, bool]


def terminal_key(index: int) -> OKPKey:
    """Terminal `index`'s signing key, the same in both processes (derived from its index)."""
    seed = hashlib.sha256(f"bench-terminal-{index}".encode()).digest()
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return OKPKey.import_key(pem)


def name_of(index: int) -> str:
    return f"T-{index:05d}"


def branch_of(index: int) -> str:
    return f"B-{index // 2:05d}"


def report(index: int, birth: int, seq: int, printer: PrinterState = PrinterState.READY) -> HealthReport:
    """Terminal `index`'s report as the load generator's simulated terminals make theirs."""
    return health_report(name_of(index), branch_of(index), DISTRICT, birth, seq, datetime.now(UTC), printer=printer,
                         counters=CloseCounts(seq * 3, 0, 0, seq % 4, 0, 0, 0, 0), link_rtt_ms=40, clock_offset_ms=20)


def messages(terminals: int, birth: int, rounds: int) -> list[Message]:
    """Each terminal's birth (retained) and `rounds` health reports, signed by its own key."""
    keys = [terminal_key(i) for i in range(terminals)]
    found: list[Message] = []
    for i, key in enumerate(keys):
        status = TerminalStatus(name_of(i), branch_of(i), DISTRICT, LinkState.ONLINE, birth, datetime.now(UTC))
        found.append((status_topic(DISTRICT, name_of(i)), sign_telemetry(status, key), True))
    for seq in range(1, rounds + 1):
        for i, key in enumerate(keys):
            found.append((telemetry_topic(DISTRICT, name_of(i)), sign_telemetry(report(i, birth, seq), key), False))
    return found


def _publish(port: int, plan: list[tuple[float, list[Message]]], ready: Event, go: Event
             ) -> None:
    """In the terminals' process: connect, wait for `go`, then publish each batch at its offset in seconds."""
    sessions = [MqttSession(f"bench-terminals-{n}", BrokerAddress("127.0.0.1", port), [], lambda _t, _p: None,
                            session_expiry=0) for n in range(CONNECTIONS)]
    for session in sessions:
        session.start()
        session.wait_connected(10)
    ready.set()
    go.wait()
    start = time.monotonic()
    count = 0
    for offset, batch in plan:
        delay = start + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for topic, payload, retain in batch:
            sessions[count % CONNECTIONS].publish(topic, payload, retain=retain)
            count += 1
    time.sleep(2)
    for session in sessions:
        session.stop()


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    applied: int


def _run(fleet: FleetService, port: int, plan: list[tuple[float, list[Message]]]) -> Run:
    total = sum(len(batch) for _, batch in plan)
    context = multiprocessing.get_context("fork")
    ready, go = context.Event(), context.Event()
    child = context.Process(target=_publish, args=(port, plan, ready, go))
    child.start()
    ready.wait(30)
    before = fleet.intake_counts().outcomes
    cpu, wall = time.process_time(), time.monotonic()
    go.set()
    handled = 0
    while handled < total and time.monotonic() - wall < 600:
        time.sleep(0.01)
        now = fleet.intake_counts().outcomes
        handled = sum(now.values()) - sum(before.values())
    applied = fleet.intake_counts().outcomes.get(Outcome.APPLIED, 0) - before.get(Outcome.APPLIED, 0)
    run = Run(time.monotonic() - wall, time.process_time() - cpu, applied)
    child.join(30)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burst", type=float, default=0.25, help="share of terminals that report at once on a change")
    args = parser.parse_args()
    terminals = args.terminals
    enrolled = {name_of(i): EnrolledTerminal(name_of(i), branch_of(i), DISTRICT, "E-bench", public_part(terminal_key(i)))
                for i in range(terminals)}
    with tempfile.TemporaryDirectory() as folder, Broker(Path(folder) / "broker") as broker:
        config = CenterConfig(DISTRICT, "center-1", ELECTION_DAY, Path(folder) / "registry.sqlite", Path(folder) / "s",
                              Path(folder) / "x", broker.address, None, 1, "center")
        fleet = FleetService(config, FleetSettings("center-1-fleet", RuleSettings(ELECTION_DAY)), enrolled)
        fleet.start()
        fleet.wait_connected(10)
        capacity, load = [], []
        for run in range(args.runs):
            flood = messages(terminals, birth=2 * run + 1, rounds=2)
            done = _run(fleet, broker.address.port, [(0.0, flood)])
            capacity.append(done)
            print(f"capacity run {run + 1}: {done.applied} messages in {done.wall_s:.2f} s = "
                  f"{done.applied / done.wall_s:,.0f}/s, {done.cpu_s / done.wall_s:.0%} of a core", flush=True)
        for run in range(args.runs):
            steady = messages(terminals, birth=100 + run, rounds=1)
            births, reports = steady[:terminals], steady[terminals:]
            step = INTERVAL_S / terminals
            plan = [(0.0, births)] + [(i * step, [m]) for i, m in enumerate(reports)]
            changed = int(terminals * args.burst)
            bursts = [(telemetry_topic(DISTRICT, name_of(i)),
                       sign_telemetry(report(i, 100 + run, 2, PrinterState.NO_PAPER), terminal_key(i)), False)
                      for i in range(changed)]
            plan.append((INTERVAL_S / 2, bursts))
            done = _run(fleet, broker.address.port, plan)
            load.append(done)
            offered = (terminals + changed) / INTERVAL_S
            print(f"load run {run + 1}: {done.applied} messages over {done.wall_s:.1f} s (births, one report each "
                  f"30 s, a burst of {changed}); {done.cpu_s / done.wall_s:.1%} of a core", flush=True)
        fleet.stop()
    rate = statistics.median(r.applied / r.wall_s for r in capacity)
    share = statistics.median(r.cpu_s / r.wall_s for r in load)
    steady_rate = terminals / INTERVAL_S
    print(f"\nintake capacity (median of {args.runs}): {rate:,.0f} messages/s "
          f"({statistics.median(r.cpu_s / r.wall_s for r in capacity):.0%} of a core while flooded)")
    print(f"offered load: {steady_rate:.1f} reports/s steady ({terminals} terminals every {INTERVAL_S:.0f} s), "
          f"{offered:.1f}/s averaged with the burst")
    print(f"center CPU at that load (median): {share:.1%} of one core; headroom {1 - share:.1%} of one core, "
          f"{rate / steady_rate:.0f}x the steady rate")


if __name__ == "__main__":
    main()
