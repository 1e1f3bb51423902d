"""Does telemetry move the reserve round trip? (issue 13: by no more than 10 % of its p99.) 2,000 simulated terminals,
enrolled through the real path, each on its own mutual-TLS connection, paced at a voter rate the machine sustains,
against the center's worker processes on a private PostgreSQL cluster; runs without and with the telemetry load,
alternated: each terminal's signed health report every 30 s (staggered, QoS 0, through its own connection) and at
half the interval a burst, a quarter of the terminals reporting at once (their printers out of paper). Each report
is composed and signed when due by its terminal's stand-in board (harness.loadgen.boards: a process of the driver's
under SCHED_IDLE, since real boards are not on the center's cores; how late the reports went out is printed). The
center's fleet service takes them in this process as `kiosk-center serve` runs it (its threads `--fleet-nice` steps
below the workers and under SCHED_IDLE unless `--no-fleet-idle`, by default as the service's settings have it), its
store in the run's PostgreSQL schema. (Without telemetry no fleet service runs: nothing would reach it. With
`--terminals-only` a third kind of run sends the terminals' telemetry with no fleet service, which tells the
simulated terminals' share of the change from the center's.) Prints each
run and the medians: reserves/s, reserve round trip p50/p95/p99, errors and no answers, the telemetry sent and what
the fleet applied and refused, the CPU of each party; and the change of the median of the runs' p99s against the
10 % target (the p99 of all the runs' reserves pooled is printed beside it: the slowest run of either kind, one
stall of this shared machine, decides that one)."""

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

from bench.center_loadgen import yardstick_us
from center.config import default_worker_processes
from center.fleet import FleetSettings
from center.storage import PostgresSettings
from center.synthetic_roll import generate_roll
from harness.loadgen.district import LoadDistrict, Pace, RunFigures
from harness.loadgen.plan import Mix, deal
from harness.loadgen.report import percentile
from harness.postgres import BENCH_SETTINGS, PostgresCluster

ELECTION_DAY = date(2026, 6, 12)
TARGET = 0.10
"""The p99 with telemetry may be at most this much above the p99 without."""
AFTER_BURST_S = 5.0
"""The reserves sent this long from the burst's moment (in either kind of run) are also shown on their own."""


def _machine() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}, Ed25519 verify {yardstick_us():.0f} µs"


def _one_run(district: LoadDistrict, cluster: PostgresCluster, args: argparse.Namespace, seed: int,
             telemetry: bool, fleet: bool) -> RunFigures:
    """One run on a new schema of the cluster (registry and, with the fleet service, the fleet's store); with
    `telemetry` and not `fleet`, the terminals send their telemetry and no center takes it in."""
    location = PostgresSettings(cluster.fresh_schema(), args.pool_size)
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    visits = math.ceil(args.rate * args.seconds * 1.05) + 50
    roll = generate_roll(math.ceil(visits * 1.2) + 100, seed, ELECTION_DAY)
    district.load_roll(location, roll)
    dealt = deal(roll, ELECTION_DAY, len(district.fleet), visits, Mix(), seed)
    pace = Pace(rate=args.rate, seconds=args.seconds, drivers=args.drivers,
                telemetry_interval_s=args.interval if telemetry else None,
                telemetry_burst=args.burst if telemetry else 0.0)
    return district.run(location, args.processes, dealt, pace, postmaster, fleet_service=fleet,
                        fleet_nice=args.fleet_nice, fleet_idle=args.fleet_idle)


def _trips(run: RunFigures) -> tuple[float, float, float]:
    trips = run.report.reserve_round_trips_ms
    return percentile(trips, 50), percentile(trips, 95), percentile(trips, 99)


def _sent_and_trips(run: RunFigures) -> list[tuple[float, float]]:
    """Each answered reserve: (seconds into the window it was sent, its round trip in ms)."""
    start = min(d.started_at for d in run.report.drivers)
    return [(sent - start, trip) for d in run.report.drivers
            for trip, sent in zip(d.reserve_round_trips_ms, d.reserve_sent_at, strict=True)]


def _after_burst(run: RunFigures, burst_at: float) -> list[float]:
    """The round trips of the reserves sent from `burst_at` seconds into the window, for AFTER_BURST_S."""
    return sorted(trip for sent, trip in _sent_and_trips(run) if burst_at <= sent < burst_at + AFTER_BURST_S)


def _slowest(run: RunFigures) -> list[tuple[float, float]]:
    """The slowest 1 % of the reserves: (seconds into the window it was sent, round trip ms), by time sent."""
    trips = sorted(_sent_and_trips(run), key=lambda sent_trip: sent_trip[1], reverse=True)
    return sorted(trips[:max(1, len(trips) // 100)])


def _run_lines(label: str, run: RunFigures, burst_at: float) -> list[str]:
    report = run.report
    p50, p95, p99 = _trips(run)
    after = _after_burst(run, burst_at)
    window = run.cpu_window_s or report.elapsed_s or 1.0
    parties = [("center", run.center_process_cpu_s), ("broker", run.broker_cpu_s),
               ("PostgreSQL", run.postgres_cpu_s or 0.0), ("loadgen", report.loadgen_cpu_s)]
    lines = [
        f"  {label:<26} {report.reserves_per_s:5.1f} reserves/s over {report.elapsed_s:.0f} s; reserve round trip "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; errors {dict(report.errors) or 'none'}, "
        f"no answers {dict(report.no_answers) or 'none'}",
        f"  {'':<26} the {len(after)} reserves sent {burst_at:.0f}-{burst_at + AFTER_BURST_S:.0f} s into the window "
        f"(the burst's moment): p50 {percentile(after, 50):.1f} ms, p99 {percentile(after, 99):.1f} ms, "
        f"max {after[-1] if after else math.nan:.1f} ms; the drivers' longest garbage collector pass "
        f"{report.longest_collector_pause_ms:.1f} ms",
    ]
    lines.append(f"  {'':<26} the slowest 1 % (s into the window: ms): "
                 + ", ".join(f"{sent:.1f}: {trip:.0f}" for sent, trip in _slowest(run)))
    if report.count("reports_sent") and run.fleet is None:
        parties.append(("boards", report.boards_cpu_s))
        lines.append(f"  {'':<26} telemetry: {report.count('reports_sent')} reports sent in the window, no fleet "
                     "service taking them in")
    fleet = run.fleet
    if fleet is not None:
        parties.append(("fleet", fleet.cpu_s))
        parties.append(("boards", report.boards_cpu_s))
        sent = report.count("reports_sent")
        signing = report.boards_cpu_s * 1e6 / max(1, sent)
        lags = report.report_lags_ms
        lines.append(
            f"  {'':<26} telemetry: {report.count('births_sent')} births and {report.count('reports_before')} first "
            f"reports before the window; {sent} reports in it (burst {report.count('burst_sent')}), signed by the "
            f"boards' processes at {signing:.0f} µs of CPU each, published p50 {percentile(lags, 50):.1f} ms, p99 "
            f"{percentile(lags, 99):.1f} ms after falling due; fleet applied {fleet.applied}, stale {fleet.stale}, refused "
            f"{fleet.refused_total} {fleet.refused or ''}".rstrip() + f", quiet {fleet.drained_s:.1f} s after")
        lines.append(f"  {'':<26} fleet CPU s by thread: "
                     + ", ".join(f"{name} {spent:.1f}" for name, spent in fleet.cpu_by_thread.items() if spent >= 0.05))
    lines.append(f"  {'':<26} CPU s over the {window:.0f} s played: "
                 + ", ".join(f"{name} {spent:.1f}" for name, spent in parties)
                 + f"; cores busy {sum(spent for _, spent in parties) / window:.2f} of {os.cpu_count()}")
    return lines


def _medians(label: str, runs: list[RunFigures]) -> tuple[str, float, float]:
    """The line of one kind's runs, the median of their p99s and the p99 of all their reserves pooled."""
    rates = [run.report.reserves_per_s for run in runs]
    p50s, p95s, p99s = zip(*(_trips(run) for run in runs), strict=True)
    errors: Counter[str] = Counter()
    no_answers: Counter[str] = Counter()
    for run in runs:
        errors.update(run.report.errors)
        no_answers.update(run.report.no_answers)
    p99 = statistics.median(p99s)
    pooled = sorted(trip for run in runs for trip in run.report.reserve_round_trips_ms)
    pooled_p99 = percentile(pooled, 99)
    line = (f"  {label:<26} {statistics.median(rates):5.1f} reserves/s; p50 {statistics.median(p50s):.1f} ms, "
            f"p95 {statistics.median(p95s):.1f} ms, p99 {p99:.1f} ms (runs: {', '.join(f'{p:.1f}' for p in p99s)}); "
            f"the {len(pooled)} reserves pooled: p99 {pooled_p99:.1f} ms; "
            f"errors {dict(errors) or 'none'}, no answers {dict(no_answers) or 'none'}")
    return line, p99, pooled_p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--terminals", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=40.0, help="voters started per second in all")
    parser.add_argument("--seconds", type=float, default=45.0, help="each run's window (at least 40: the burst)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind, alternated; medians are printed")
    parser.add_argument("--interval", type=float, default=30.0, help="each terminal's health report, seconds")
    parser.add_argument("--burst", type=float, default=0.25, help="share of the terminals reporting at once")
    parser.add_argument("--drivers", type=int, default=2, help="load generator driver processes")
    parser.add_argument("--processes", type=int, default=default_worker_processes(), help="center worker processes")
    parser.add_argument("--pool-size", type=int, default=4, help="each worker process's registry pool")
    parser.add_argument("--fleet-nice", type=int, default=FleetSettings.nice,
                        help="how many nice steps the fleet's threads take below the workers (0: none)")
    parser.add_argument("--fleet-idle", action=argparse.BooleanOptionalAction, default=FleetSettings.idle,
                        help="the fleet's threads under SCHED_IDLE")
    parser.add_argument("--terminals-only", action="store_true",
                        help="a third kind of run between the two: the terminals send their telemetry, no fleet "
                             "service takes it in (the broker drops it), to tell the terminals' share of the change "
                             "(simulated here on the same cores) from the center's")
    args = parser.parse_args()
    print(f"telemetry against the reserve round trip: {args.terminals} terminals -> mosquitto (mutual TLS) -> "
          f"{args.processes} center worker processes -> PostgreSQL (durable commits), paced at {args.rate:.0f} "
          f"voters/s for {args.seconds:.0f} s a run; telemetry: a report every {args.interval:.0f} s from each "
          f"terminal, a burst of {args.burst:.0%} at {args.interval / 2:.0f} s; {args.runs} runs of each, "
          f"alternated; the fleet's threads {args.fleet_nice} nice steps below the workers"
          f"{' and under SCHED_IDLE' if args.fleet_idle else ''}; {os.cpu_count()} cores, "
          f"{_machine()}", flush=True)
    without: list[RunFigures] = []
    terminals_only: list[RunFigures] = []
    with_telemetry: list[RunFigures] = []
    kinds = [(False, False, without, "without telemetry"), (True, True, with_telemetry, "with telemetry")]
    if args.terminals_only:
        kinds.insert(1, (True, False, terminals_only, "terminals' telemetry only"))
    with tempfile.TemporaryDirectory(prefix="vk-bench-") as tmp, ExitStack() as stack:
        cluster = stack.enter_context(PostgresCluster(settings=BENCH_SETTINGS))
        started = time.perf_counter()
        district = stack.enter_context(LoadDistrict(Path(tmp) / "district", args.terminals, ELECTION_DAY,
                                                    max_worker_processes=args.processes))
        print(f"  enrolled {args.terminals} terminals through the real path in {time.perf_counter() - started:.0f} s",
              flush=True)
        for number in range(1, args.runs + 1):
            for place, (telemetry, fleet, runs, kind) in enumerate(kinds):
                run = _one_run(district, cluster, args, len(kinds) * (number - 1) + place + 1, telemetry, fleet)
                runs.append(run)
                label = f"run {number} {kind}"
                for line in _run_lines(label, run, args.interval / 2):
                    print(line, flush=True)
    print(f"medians of {args.runs} ({_machine()}):")
    line, p99_without, pooled_without = _medians("without telemetry", without)
    print(line)
    if terminals_only:
        line, p99_terminals, _ = _medians("terminals' telemetry only", terminals_only)
        print(line)
        print(f"  {'':<26} the terminals' part alone (their sending, the boards' signing and the broker, no fleet "
              f"service): {(p99_terminals - p99_without) / p99_without:+.1%} on the median p99")
    line, p99_with, pooled_with = _medians("with telemetry", with_telemetry)
    print(line)
    sent = sum(run.report.count("reports_sent") for run in with_telemetry)
    applied = sum(run.fleet.applied for run in with_telemetry if run.fleet is not None)
    refused = sum(run.fleet.refused_total for run in with_telemetry if run.fleet is not None)
    print(f"  {'':<26} telemetry in all runs: {sent} reports sent in the windows, {applied} applied by the fleet, "
          f"{refused} refused")
    pooled = (pooled_with - pooled_without) / pooled_without
    print(f"  {'':<26} the p99 of all the runs' reserves pooled: {pooled_with:.1f} ms with telemetry against "
          f"{pooled_without:.1f} ms without: {pooled:+.1%} (the slowest run of either kind decides it)")
    change = (p99_with - p99_without) / p99_without
    print(f"reserve round trip p99, the median of the runs', with telemetry {p99_with:.1f} ms against "
          f"{p99_without:.1f} ms without: {change:+.1%}; {_verdict(change, without, with_telemetry)}")


def _verdict(change: float, without: list[RunFigures], with_telemetry: list[RunFigures]) -> str:
    """Against the target, unless a run fell behind (a try unanswered in its time): then its round trips are only
    the last tries' (each at most the answer timeout), and a p99 says nothing."""
    behind = sum(sum(run.report.no_answers.values()) for run in without)
    if behind:
        return (f"no verdict: without telemetry the center already fell behind ({behind} tries unanswered in "
                f"time); try a lower --rate")
    behind = sum(sum(run.report.no_answers.values()) for run in with_telemetry)
    if behind:
        return f"beyond the {TARGET:.0%} target: with telemetry the center fell behind ({behind} tries unanswered)"
    return f"{'within' if change <= TARGET else 'beyond'} the {TARGET:.0%} target"


if __name__ == "__main__":
    main()
