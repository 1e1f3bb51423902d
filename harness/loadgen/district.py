"""The district a load run plays against, on loopback: its PKI and mutual-TLS broker, a fleet enrolled through the
real path, and the center's worker processes on a registry; one run measured with every process's CPU."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from queue import Empty
from types import TracebackType
from typing import TypeVar

from center.broker_config import render_center_acl
from center.config import CenterConfig
from center.eligibility import VoterRecord
from center.enroll import CenterKeys as PublicCenterKeys
from center.enrolled import EnrolledTerminals
from center.fleet import FleetService, FleetSettings
from center.fleet.rules import RuleSettings
from center.fleet.settings import DEFAULT_IDENTITY_SUFFIX
from center.pki import PkiRefusal, center_identities, issue_center, issue_center_workers
from center.registry import Registry
from center.roll import RollRefused
from center.storage import RegistryLocation, open_database
from center.voter_key import registry_key
from center.worker_cpu import Handled, Stage, StageTotals
from center.worker_processes import WorkerProcesses, WorkersStatus
from harness.broker import Broker
from harness.card.pki import make_pki
from harness.loadgen.cpu import children_cpu_s, pid_running, process_cpu_s
from harness.loadgen.driver import DriverSpec, run
from harness.loadgen.fleet import FleetFigures, FleetWatch
from harness.loadgen.plan import Deal
from harness.loadgen.report import DriverReport, LoadReport
from harness.pki import make_district_pki, provision_terminal
from protocol.mqtt import BrokerAddress
from protocol.seal import generate_sealing_key, generate_signing_key, public_part

INSTANCE = "loadgen"
"""The center instance the load district runs: its workers are loadgen-w1 ... (one certificate each)."""
FLEET_IDENTITY = f"{INSTANCE}-{DEFAULT_IDENTITY_SUFFIX}"
"""Its fleet listener's certificate (center.fleet.settings.default_identity)."""
_READY_S = 600.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class Pace:
    """How the drivers play: visits started per second in all (None: as soon as a terminal is free), at most how
    many visits under way at once in all (None: no bound), for how long at most, how long a try waits for its
    answer (the terminal's own reserve deadline) and how many tries (the operator's retries, the same bytes),
    whether reserves are sealed and signed beforehand."""

    rate: float | None = None
    max_active: int | None = None
    seconds: float = 60.0
    drivers: int = 2
    answer_timeout: float = 3.0
    tries: int = 3
    presign: bool = True
    telemetry_interval_s: float | None = None
    """A telemetry load besides: each terminal's health report every this many seconds (None: none)."""
    telemetry_burst: float = 0.0
    """...and at half the interval this share of the terminals reporting at once (their printers out of paper)."""


@dataclass(frozen=True)
class RunFigures:
    """One run: the load generator's report, and the CPU each party spent in the window."""

    report: LoadReport
    center: WorkersStatus
    center_cpu: StageTotals
    """The responders' CPU by kind and stage, in the window."""
    center_process_cpu_s: float
    broker_cpu_s: float
    postgres_cpu_s: float | None
    fleet: FleetFigures | None = None
    """The fleet service's intake and CPU, when it ran beside the run."""
    cpu_window_s: float = 0.0
    """The wall seconds the CPU above was counted over: from the go until the drivers were done."""


class LoadDistrict:
    """A district of `terminals` terminals (`per_branch` to a branch), enrolled once, for several runs."""

    def __init__(self, folder: Path, terminals: int, election_day: date, *, district: str = "D-LOAD",
                 per_branch: int = 8, max_worker_processes: int = 4, workers: int = 1) -> None:
        self.folder = folder
        self.district = district
        self.election_day = election_day
        self.workers = workers
        self.signing, self.sealing = generate_signing_key(), generate_sealing_key()
        self.voter_key = registry_key(self.sealing)
        public = PublicCenterKeys(public_part(self.signing), public_part(self.sealing))
        self.pki = make_district_pki(folder / "pki", district, public, make_pki().csca_pem())
        now = datetime.now(UTC)
        made = issue_center_workers(self.pki.ca, INSTANCE, max_worker_processes * workers,
                                    self.pki.center_workers.cert_dir, now)
        if not isinstance(made, list):
            raise RuntimeError(f"the load district's center certificates were refused: {made}")
        listener = issue_center(self.pki.ca, FLEET_IDENTITY, self.pki.center_workers.cert_dir, now)
        if isinstance(listener, PkiRefusal):
            raise RuntimeError(f"the load district's fleet listener certificate was refused: {listener}")
        self.pki.broker_tls.center.acl_file.write_text(render_center_acl(district, center_identities(self.pki.ca)))
        self.broker = Broker(folder / "broker", tls=self.pki.broker_tls)
        self.fleet: list[Path] = []
        for index in range(terminals):
            name = f"T-{index + 1:05d}"
            branch = f"B-{index // per_branch + 1:04d}"
            self.fleet.append(folder / "fleet" / name)
            provision_terminal(self.pki, self.fleet[-1], name, branch)
        self.enrolled = EnrolledTerminals(self.pki.ca.folder)

    def __enter__(self) -> LoadDistrict:
        self.broker.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.broker.stop()

    def load_roll(self, location: RegistryLocation, roll: Sequence[VoterRecord]) -> None:
        database = open_database(location)
        registry = Registry(database.session(), self.election_day, voter_key=self.voter_key)
        try:
            loaded = registry.load_roll(roll)
        finally:
            registry.close()
            database.close()
        if isinstance(loaded, RollRefused):
            raise RuntimeError(f"the roll did not load: {loaded.problems}")

    def config(self, location: RegistryLocation, processes: int) -> CenterConfig:
        """The center's configuration on `location`; the per-terminal rate limit is lifted, since one simulated
        terminal may send faster than a real one."""
        return CenterConfig(
            self.district, INSTANCE, self.election_day, location, self.folder / "unused", self.folder / "unused",
            self.broker.center_address, self.pki.center_workers, self.workers, self.pki.group,
            enrolment_ca=self.pki.ca.folder, requests_per_terminal_second=1_000_000,
            answers_per_terminal=100_000_000, worker_processes=processes,
        )

    def center(self, location: RegistryLocation, processes: int) -> WorkerProcesses:
        """The center's worker processes on `location` (not started)."""
        return WorkerProcesses(self.config(location, processes), self.signing.as_pem(private=True),
                               self.sealing.as_pem(private=True), self.voter_key)

    def fleet_service(self, location: RegistryLocation, nice: int | None = None, idle: bool | None = None
                      ) -> FleetService:
        """The center's fleet service (not started), its store where `kiosk-center serve` puts it: the registry's
        PostgreSQL database (tables of its own, here in the run's schema) or an SQLite file beside the registry's;
        its threads `nice` steps below the process and under SCHED_IDLE or not (None: as the service's settings
        have it)."""
        settings = FleetSettings(FLEET_IDENTITY, RuleSettings(self.election_day))
        if nice is not None:
            settings = dataclasses.replace(settings, nice=nice)
        if idle is not None:
            settings = dataclasses.replace(settings, idle=idle)
        return FleetService(self.config(location, 1), settings, self.enrolled)

    def run(self, location: RegistryLocation, processes: int, dealt: Deal, pace: Pace,
            postgres_pid: int | None = None, *, fleet_service: bool = False, fleet_nice: int | None = None,
            fleet_idle: bool | None = None) -> RunFigures:
        """Start the center on `location` with `processes` worker processes (and, with `fleet_service`, its fleet
        service in this process, as `kiosk-center serve` does), play `dealt`, stop the center. The CPU is counted
        from the go, once every terminal is connected (and the fleet's intake has fallen quiet)."""
        broker_pid = pid_running(str(self.broker.config_path))

        def spent() -> tuple[WorkersStatus, float, float, float]:
            return (center.status(), process_cpu_s(broker_pid) if broker_pid else 0.0,
                    children_cpu_s(postgres_pid) if postgres_pid else 0.0, time.monotonic())

        marks: list[tuple[WorkersStatus, float, float, float]] = []

        def begin() -> None:
            if watch is not None:
                watch.begin()
            # The set-up's writes (the run's schema and roll, the births and first reports) on the disk before the
            # go: the kernel writes dirty pages back 30 s after they were dirtied, and on this disk that stalled
            # every commit in flight 50-120 ms, in the window and more in the runs with the longer set-up.
            os.sync()
            marks.append(spent())

        with ExitStack() as stack:
            center = stack.enter_context(self.center(location, processes))
            if not center.wait_connected(120):
                raise RuntimeError(f"the center's worker processes did not connect: {center.status()}")
            watch = (stack.enter_context(FleetWatch(self.fleet_service(location, fleet_nice, fleet_idle))) if fleet_service
                     else None)
            report = play(self.broker.address, self.fleet, dealt, pace, begin)
            time.sleep(0.5)
            (after, broker_after, postgres_after, ended), (before, broker_before, postgres_before, began) = (
                spent(), marks[0])
            fleet = None if watch is None else watch.figures()
        return RunFigures(report, after, after.cpu - before.cpu,
                          (after.process_cpu_ns - before.process_cpu_ns) / 1e9, broker_after - broker_before,
                          postgres_after - postgres_before if postgres_pid else None, fleet, ended - began)


def play(broker_address: BrokerAddress, fleet: Sequence[Path], dealt: Deal, pace: Pace,
         before_go: Callable[[], None] | None = None) -> LoadReport:
    """Play `dealt` with `pace.drivers` driver processes, each a share of the fleet, started together once every
    one is connected (and `before_go` has returned). The drivers are not daemons, since each may start its
    boards' process (harness.loadgen.boards); they are joined, or killed, before this returns."""
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[tuple[int, int]] = context.Queue()
    done: multiprocessing.Queue[DriverReport] = context.Queue()
    go = context.Event()
    drivers = min(pace.drivers, len(fleet))
    specs = [DriverSpec(number, broker_address, tuple(str(f) for f in fleet[number::drivers]),
                        dealt.steps[number::drivers],
                        None if pace.rate is None else pace.rate / drivers, pace.seconds, pace.answer_timeout,
                        pace.tries, pace.presign,
                        None if pace.max_active is None else max(1, pace.max_active // drivers),
                        pace.telemetry_interval_s, pace.telemetry_burst, number / drivers)
             for number in range(drivers)]
    processes = [context.Process(target=run, args=(spec, ready, go, done), name=f"loadgen-driver-{spec.number}")
                 for spec in specs]
    for process in processes:
        process.start()
    try:
        _gather(ready, processes, _READY_S)
        if before_go is not None:
            before_go()
        go.set()
        reports = _gather(done, processes, pace.seconds + pace.answer_timeout * pace.tries + 120)
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    return LoadReport(tuple(reports))


def _gather(queue: multiprocessing.Queue[_T], processes: Sequence[BaseProcess], timeout: float) -> list[_T]:
    """One item from each driver process, in `timeout` seconds; raises as soon as a driver has failed."""
    deadline = time.monotonic() + timeout
    found: list[_T] = []
    while len(found) < len(processes):
        try:
            found.append(queue.get(timeout=1.0))
        except Empty:
            failed = [p for p in processes if p.exitcode not in (None, 0)]
            if failed:
                raise RuntimeError(f"driver process {failed[0].name} ended with exit code {failed[0].exitcode}"
                                   ) from None
            if time.monotonic() > deadline:
                raise
    return found


def figure_lines(figures: RunFigures) -> list[str]:
    """The report, then where the CPU went: the center's per reserve by stage, and each party's per request."""
    report, cpu = figures.report, figures.center_cpu
    lines = report.lines()
    stages = ", ".join(f"{label} {cpu.microseconds_each(Handled.RESERVE, stage):.0f}"
                       for label, stage in (("verify", Stage.VERIFY), ("unseal", Stage.UNSEAL),
                                            ("reserve", Stage.REGISTRY), ("sign", Stage.SIGN),
                                            ("whole handling", Stage.TOTAL)))
    lines.append(f"center CPU per reserve (µs, the responder's own thread time): {stages}")
    requests = max(1, sum(cpu.count(row) for row in Handled))
    reserves = max(1, report.count("reserves_answered"))
    parties = [("center processes", figures.center_process_cpu_s), ("broker", figures.broker_cpu_s),
               ("load generator", report.loadgen_cpu_s)]
    if figures.postgres_cpu_s is not None:
        parties.append(("PostgreSQL", figures.postgres_cpu_s))
    if figures.fleet is not None:
        parties.append(("fleet service", figures.fleet.cpu_s))
        lines.append(figures.fleet.line())
    lines.append("CPU per reserve answered, whole processes (µs; every request of the mix counted, "
                 f"{requests / reserves:.2f} requests per reserve): "
                 + ", ".join(f"{name} {spent * 1e6 / reserves:.0f}" for name, spent in parties))
    return lines
