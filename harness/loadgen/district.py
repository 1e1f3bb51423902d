"""The district a load run plays against, on loopback: its PKI and mutual-TLS broker, a fleet enrolled through the
real path, and the center's worker processes on a registry; one run measured with every process's CPU."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType

from center.broker_config import render_center_acl
from center.config import CenterConfig
from center.eligibility import VoterRecord
from center.enroll import CenterKeys as PublicCenterKeys
from center.pki import center_identities, issue_center_workers
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
from harness.loadgen.plan import Deal
from harness.loadgen.report import DriverReport, LoadReport
from harness.pki import make_district_pki, provision_terminal
from protocol.mqtt import BrokerAddress
from protocol.seal import generate_sealing_key, generate_signing_key, public_part

INSTANCE = "loadgen"
"""The center instance the load district runs: its workers are loadgen-w1 ... (one certificate each)."""
_READY_S = 600.0


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
        self.pki.broker_tls.center.acl_file.write_text(render_center_acl(district, center_identities(self.pki.ca)))
        self.broker = Broker(folder / "broker", tls=self.pki.broker_tls)
        self.fleet: list[Path] = []
        for index in range(terminals):
            name = f"T-{index + 1:05d}"
            branch = f"B-{index // per_branch + 1:04d}"
            self.fleet.append(folder / "fleet" / name)
            provision_terminal(self.pki, self.fleet[-1], name, branch)

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

    def center(self, location: RegistryLocation, processes: int) -> WorkerProcesses:
        """The center's worker processes on `location` (not started); the per-terminal rate limit is lifted,
        since one simulated terminal may send faster than a real one."""
        config = CenterConfig(
            self.district, INSTANCE, self.election_day, location, self.folder / "unused", self.folder / "unused",
            self.broker.center_address, self.pki.center_workers, self.workers, self.pki.group,
            enrolment_ca=self.pki.ca.folder, requests_per_terminal_second=1_000_000,
            answers_per_terminal=100_000_000, worker_processes=processes,
        )
        return WorkerProcesses(config, self.signing.as_pem(private=True), self.sealing.as_pem(private=True),
                               self.voter_key)

    def run(self, location: RegistryLocation, processes: int, dealt: Deal, pace: Pace,
            postgres_pid: int | None = None) -> RunFigures:
        """Start the center on `location` with `processes` worker processes, play `dealt`, stop the center."""
        broker_pid = pid_running(str(self.broker.config_path))
        with self.center(location, processes) as center:
            if not center.wait_connected(120):
                raise RuntimeError(f"the center's worker processes did not connect: {center.status()}")
            before = center.status()
            broker_before = process_cpu_s(broker_pid) if broker_pid else 0.0
            postgres_before = children_cpu_s(postgres_pid) if postgres_pid else 0.0
            report = play(self.broker.address, self.fleet, dealt, pace)
            time.sleep(0.5)
            after = center.status()
            broker_after = process_cpu_s(broker_pid) if broker_pid else 0.0
            postgres_after = children_cpu_s(postgres_pid) if postgres_pid else 0.0
        return RunFigures(report, after, after.cpu - before.cpu,
                          (after.process_cpu_ns - before.process_cpu_ns) / 1e9, broker_after - broker_before,
                          postgres_after - postgres_before if postgres_pid else None)


def play(broker_address: BrokerAddress, fleet: Sequence[Path], dealt: Deal, pace: Pace) -> LoadReport:
    """Play `dealt` with `pace.drivers` driver processes, each a share of the fleet, started together."""
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[tuple[int, int]] = context.Queue()
    done: multiprocessing.Queue[DriverReport] = context.Queue()
    go = context.Event()
    drivers = min(pace.drivers, len(fleet))
    specs = [DriverSpec(number, broker_address, tuple(str(f) for f in fleet[number::drivers]),
                        dealt.steps[number::drivers],
                        None if pace.rate is None else pace.rate / drivers, pace.seconds, pace.answer_timeout,
                        pace.tries, pace.presign,
                        None if pace.max_active is None else max(1, pace.max_active // drivers))
             for number in range(drivers)]
    processes = [context.Process(target=run, args=(spec, ready, go, done), name=f"loadgen-driver-{spec.number}",
                                 daemon=True) for spec in specs]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=_READY_S)
        go.set()
        reports = [done.get(timeout=pace.seconds + pace.answer_timeout * pace.tries + 120) for _ in processes]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
    return LoadReport(tuple(reports))


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
    lines.append("CPU per reserve answered, whole processes (µs; every request of the mix counted, "
                 f"{requests / reserves:.2f} requests per reserve): "
                 + ", ".join(f"{name} {spent * 1e6 / reserves:.0f}" for name, spent in parties))
    return lines
