"""`python -m harness.loadgen`: a district on loopback (broker, center worker processes, registry) and a fleet of
simulated terminals enrolled through the real path, played at it; prints reserves/s, round trips, errors, CPU."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from center.config import default_worker_processes
from center.storage import PostgresSettings, RegistryLocation
from center.synthetic_roll import generate_roll
from harness.loadgen.cpu import pid_running
from harness.loadgen.district import LoadDistrict, Pace, figure_lines
from harness.loadgen.plan import Mix, deal
from harness.loadgen.report import percentile
from harness.postgres import PostgresCluster

ELECTION_DAY = date(2026, 6, 12)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    pace = Pace(args.rate, args.in_flight, args.seconds, args.drivers, args.answer_timeout, args.tries,
                not args.sign_live, args.telemetry, args.burst if args.telemetry else 0.0)
    with tempfile.TemporaryDirectory(prefix="vk-loadgen-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        location: RegistryLocation
        postgres_pid = None
        if args.engine == "sqlite":
            location = folder / "registry.sqlite"
        elif args.dsn:
            location = PostgresSettings(args.dsn, args.pool_size)
        else:
            cluster = stack.enter_context(PostgresCluster())
            location = PostgresSettings(cluster.fresh_schema(), args.pool_size)
            postgres_pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        print(f"enrolling {args.terminals} terminals through the real path ...", file=sys.stderr)
        district = stack.enter_context(LoadDistrict(folder / "district", args.terminals, ELECTION_DAY,
                                                    max_worker_processes=args.worker_processes))
        roll = generate_roll(math.ceil(args.visits * 1.2) + 50, args.seed, ELECTION_DAY)
        district.load_roll(location, roll)
        dealt = deal(roll, ELECTION_DAY, args.terminals, args.visits, Mix(), args.seed)
        figures = district.run(location, args.worker_processes, dealt, pace, postgres_pid,
                               fleet_service=args.telemetry is not None)
        report = figures.report
        if args.json:
            trips = report.reserve_round_trips_ms
            print(json.dumps({
                "terminals": report.terminals, "connected": report.connected, "visits": report.count("visits"),
                "reserves_per_s": report.reserves_per_s, "p50_ms": percentile(trips, 50),
                "p95_ms": percentile(trips, 95), "p99_ms": percentile(trips, 99),
                "errors": dict(report.errors), "no_answers": dict(report.no_answers),
                "broker_pid_found": pid_running(str(district.broker.config_path)) is not None,
                "telemetry_reports": report.count("reports_sent"),
                "fleet_applied": None if figures.fleet is None else figures.fleet.applied,
                "fleet_refused": None if figures.fleet is None else figures.fleet.refused,
            }))
        else:
            print(f"{args.engine}, {args.worker_processes} worker processes, {args.drivers} driver processes:")
            for line in figure_lines(figures):
                print(f"  {line}")
    return 1 if report.errors else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.loadgen", description=__doc__)
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--visits", type=int, default=2000, help="voters in all (bounded count)")
    parser.add_argument("--rate", type=float, help="visits started per second in all (default: back to back)")
    parser.add_argument("--in-flight", type=int, help="at most this many visits under way at once (default: "
                                                      "no bound: every terminal at once)")
    parser.add_argument("--seconds", type=float, default=60.0, help="no visit starts after this (bounded time)")
    parser.add_argument("--drivers", type=int, default=2, help="driver processes sharing the terminals")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--dsn", help="PostgreSQL to use (default: a private cluster started for the run)")
    parser.add_argument("--pool-size", type=int, default=4, help="each worker process's pool (PostgreSQL)")
    parser.add_argument("--worker-processes", type=int, default=default_worker_processes())
    parser.add_argument("--answer-timeout", type=float, default=3.0,
                        help="seconds a try waits for its answer (the terminal's reserve deadline)")
    parser.add_argument("--tries", type=int, default=3, help="tries of one request (the same bytes each time)")
    parser.add_argument("--sign-live", action="store_true", help="seal and sign each reserve when it is sent "
                                                                 "(default: beforehand, off the clock)")
    parser.add_argument("--telemetry", type=float, metavar="SECONDS",
                        help="a telemetry load besides: each terminal's signed health report this often, taken by "
                             "the center's fleet service run in this process (default: none)")
    parser.add_argument("--burst", type=float, default=0.25,
                        help="with --telemetry: the share of terminals reporting at once at half the interval")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    return parser


if __name__ == "__main__":
    sys.exit(main())
