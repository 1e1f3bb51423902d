"""End to end at the nation's scale: 2,000 simulated terminals (enrolled through the real path, mutual TLS, signed
and sealed requests, verified answers) against the center's worker processes on a private PostgreSQL cluster;
reserves/s and round trips at 1, 2 and all cores' worth of worker processes, medians of several runs, and where
the CPU goes."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from center.config import default_worker_processes
from center.storage import PostgresSettings, RegistryLocation
from center.synthetic_roll import generate_roll
from center.worker_cpu import Handled, Stage
from harness.loadgen.district import LoadDistrict, Pace, RunFigures
from harness.loadgen.plan import Mix, deal
from harness.loadgen.report import percentile
from harness.postgres import BENCH_SETTINGS, PostgresCluster

ELECTION_DAY = date(2026, 6, 12)


def yardstick_us() -> float:
    """This machine's speed now: CPU µs of one raw Ed25519 verification (about 50 µs on an idle modern core)."""
    key = Ed25519PrivateKey.generate()
    message = b"m" * 400
    signature = key.sign(message)
    public = key.public_key()
    started = time.thread_time()
    for _ in range(400):
        public.verify(signature, message)
    return (time.thread_time() - started) / 400 * 1e6


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def _one_run(district: LoadDistrict, cluster: PostgresCluster | None, processes: int, visits: int, pace: Pace,
             seed: int, pool_size: int) -> RunFigures:
    """One run on a fresh registry: a new schema of the cluster, or (no cluster) a new SQLite file."""
    location: RegistryLocation = district.folder / f"registry-{seed}.sqlite"
    postmaster = None
    if cluster is not None:
        location = PostgresSettings(cluster.fresh_schema(), pool_size)
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    roll = generate_roll(math.ceil(visits * 1.2) + 100, seed, ELECTION_DAY)
    district.load_roll(location, roll)
    dealt = deal(roll, ELECTION_DAY, len(district.fleet), visits, Mix(), seed)
    return district.run(location, processes, dealt, pace, postmaster)


def _summary(label: str, runs: list[RunFigures]) -> list[str]:
    """Medians over the runs (the run with the median rate for the CPU split)."""
    rates = [run.report.reserves_per_s for run in runs]
    p50s, p95s, p99s = ([percentile(run.report.reserve_round_trips_ms, q) for run in runs] for q in (50, 95, 99))
    middle = sorted(runs, key=lambda run: run.report.reserves_per_s)[len(runs) // 2]
    cpu = middle.center_cpu
    reserves = max(1, middle.report.count("reserves_answered"))
    errors: Counter[str] = Counter()
    no_answers: Counter[str] = Counter()
    for run in runs:
        errors.update(run.report.errors)
        no_answers.update(run.report.no_answers)
    stages = " ".join(f"{name} {cpu.microseconds_each(Handled.RESERVE, stage):.0f}" for name, stage in
                      (("verify", Stage.VERIFY), ("unseal", Stage.UNSEAL), ("reserve", Stage.REGISTRY),
                       ("sign", Stage.SIGN), ("handle", Stage.TOTAL)))
    parties = [("center", middle.center_process_cpu_s), ("broker", middle.broker_cpu_s),
               ("loadgen", middle.report.loadgen_cpu_s)]
    if middle.postgres_cpu_s is not None:
        parties.append(("PostgreSQL", middle.postgres_cpu_s))
    window = middle.report.elapsed_s or 1.0
    return [
        f"  {label:<30} {statistics.median(rates):6.0f} reserves/s (runs: {', '.join(f'{r:.0f}' for r in rates)}); "
        f"round trip p50 {statistics.median(p50s):.0f} ms, p95 {statistics.median(p95s):.0f} ms, "
        f"p99 {statistics.median(p99s):.0f} ms",
        f"  {'':<30} errors {dict(errors) or 'none'}; no answers {dict(no_answers) or 'none'}",
        f"  {'':<30} center CPU per reserve (µs, responder threads): {stages}",
        f"  {'':<30} CPU per reserve answered, whole processes (µs): "
        + ", ".join(f"{name} {spent * 1e6 / reserves:.0f}" for name, spent in parties)
        + f"; cores busy {sum(spent for _, spent in parties) / window:.2f} of {os.cpu_count()}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--visits", type=int, default=3000, help="voters per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; medians are printed")
    parser.add_argument("--processes", default="", help="worker process counts, e.g. 1,2,4 (default: 1, 2, cores)")
    parser.add_argument("--drivers", type=int, default=2, help="load generator driver processes")
    parser.add_argument("--pool-size", type=int, default=4, help="each worker process's registry pool")
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql",
                        help="sqlite: every worker process on one WAL file (does it scale?)")
    parser.add_argument("--in-flight", type=int, default=16,
                        help="visits under way at once in the closed-loop runs (the terminals take turns)")
    parser.add_argument("--paced-share", type=float, default=0.7,
                        help="then paced runs per count at this share of its closed-loop rate (0: none)")
    args = parser.parse_args()
    cores = default_worker_processes()
    counts = sorted({int(c) for c in args.processes.split(",")} if args.processes else {1, 2, cores})
    engine = "PostgreSQL (durable commits)" if args.engine == "postgresql" else "SQLite (WAL, synchronous=FULL)"
    print(f"end to end: {args.terminals} terminals -> mosquitto (mutual TLS) -> center worker processes -> "
          f"{engine}; {args.visits} voters a run, median of {args.runs}; "
          f"{cores} cores, load {_load()}, Ed25519 verify {yardstick_us():.0f} µs")
    with tempfile.TemporaryDirectory(prefix="vk-bench-") as tmp, ExitStack() as stack:
        cluster = (stack.enter_context(PostgresCluster(settings=BENCH_SETTINGS)) if args.engine == "postgresql"
                   else None)
        started = time.perf_counter()
        with LoadDistrict(Path(tmp) / "district", args.terminals, ELECTION_DAY,
                          max_worker_processes=max(counts)) as district:
            print(f"  enrolled {args.terminals} terminals through the real path in "
                  f"{time.perf_counter() - started:.0f} s")
            seed = 0
            for processes in counts:
                closed = Pace(max_active=args.in_flight, seconds=120, drivers=args.drivers)
                runs = []
                for _ in range(args.runs):
                    seed += 1
                    runs.append(_one_run(district, cluster, processes, args.visits, closed, seed, args.pool_size))
                name = f"{processes} worker process{'es' if processes > 1 else ''}"
                for line in _summary(f"{name}, {args.in_flight} in flight", runs):
                    print(line)
                if args.paced_share > 0:
                    visits_per_s = statistics.median(r.report.reserves_per_s for r in runs) * args.paced_share
                    paced_runs = []
                    for _ in range(args.runs):
                        seed += 1
                        paced = Pace(rate=visits_per_s, seconds=120, drivers=args.drivers)
                        paced_runs.append(_one_run(district, cluster, processes, args.visits, paced, seed,
                                                   args.pool_size))
                    for line in _summary(f"{name}, paced {visits_per_s:.0f} voters/s", paced_runs):
                        print(line)
                print(f"  {'':<30} (load {_load()}, Ed25519 verify {yardstick_us():.0f} µs)")


if __name__ == "__main__":
    main()
