"""The registry alone: reserves per second on SQLite and on PostgreSQL, durable commits, 1 to 32 concurrent workers."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg

from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.storage import PostgresSettings, RegistryLocation, open_database
from center.storage.postgres import RESERVE_STATEMENT
from center.synthetic_roll import RollShares, generate_roll
from harness.postgres import BENCH_SETTINGS, PORT, SUPERUSER, PostgresCluster
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode

ELECTION_DAY = date(2026, 6, 12)
VOTER_KEY = b"bench registry voter key, 32 b."
WORKERS = (1, 4, 16, 32)


def _worker(location: RegistryLocation, codes: Sequence[str], index: int, start: Barrier,
            results: multiprocessing.Queue[tuple[float, float, int, float]]) -> None:
    """One worker process with one connection of its own: its share of the voters, one reserve each."""
    if isinstance(location, PostgresSettings):
        location = PostgresSettings(location.dsn, pool_size=1)
    database = open_database(location)
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    who = Requester(f"t-{index}", f"branch-{index}", "d-bench")
    claims = [ReserveClaim(secrets.token_hex(16), NationalCode(code), DocumentKind.SMART_CARD, False, who)
              for code in codes]
    start.wait()
    cpu = time.process_time()
    began = time.perf_counter()
    granted = sum(isinstance(registry.reserve(claim), Reserved) for claim in claims)
    ended = time.perf_counter()
    cpu = time.process_time() - cpu
    registry.close()
    database.close()
    results.put((began, ended, granted, cpu))


def _run(location: RegistryLocation, codes: list[str], workers: int) -> tuple[float, float]:
    """Reserves per second of `workers` processes together, from the first start to the last end, and the
    workers' own CPU per reserve (µs)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results: multiprocessing.Queue[tuple[float, float, int, float]] = context.Queue()
    processes = [context.Process(target=_worker, args=(location, codes[i::workers], i, start, results))
                 for i in range(workers)]
    for process in processes:
        process.start()
    done = [results.get() for _ in processes]
    for process in processes:
        process.join()
    granted = sum(g for _, _, g, _ in done)
    if granted != len(codes):
        raise RuntimeError(f"{granted} of {len(codes)} voters were reserved; each should have been once")
    rate = len(codes) / (max(e for _, e, _, _ in done) - min(b for b, _, _, _ in done))
    return rate, sum(c for _, _, _, c in done) / len(codes) * 1e6


def _load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def _measure(name: str, location: RegistryLocation, reserves: int, runs: int,
             workers: Sequence[int]) -> dict[int, float]:
    roll = generate_roll(reserves * runs * len(workers), 5, ELECTION_DAY, RollShares(0, 0, 0))
    database = open_database(location)
    loader = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    loader.load_roll(roll)
    loader.close()
    database.close()
    codes = iter([record.national_code.digits for record in roll])
    figures: dict[int, float] = {}
    for count in workers:
        before = _load()
        measured = [_run(location, [next(codes) for _ in range(reserves)], count) for _ in range(runs)]
        figures[count] = statistics.median(rate for rate, _ in measured)
        cpu = statistics.median(cpu for _, cpu in measured)
        print(f"  {name:10s} {count:2d} workers: median {figures[count]:8,.0f} reserves/s, client CPU "
              f"{cpu:4.0f} µs/reserve (runs: {', '.join(f'{r:,.0f}' for r, _ in measured)}; {before}, after "
              f"{_load()})", flush=True)
    return figures


def _pgbench(cluster: PostgresCluster, dbname: str, voters: int, clients: Sequence[int], seconds: int) -> None:
    """The ceiling: pgbench (C, no client work) running the registry's reserve statement, same cluster."""
    pgbench = cluster.bin_dir / "pgbench"
    if not pgbench.exists():
        print(f"  pgbench: not installed ({pgbench})")
        return
    with psycopg.connect(cluster.dsn(dbname), autocommit=True) as conn:
        conn.execute("INSERT INTO voters SELECT md5(i::text), date '1980-01-01', 'x', 'eligible'"
                     " FROM generate_series(1, %s) AS i", (voters,))
        conn.execute("VACUUM ANALYZE")
    statement = (RESERVE_STATEMENT.replace("%(voter)s", "md5(:v::text)").replace("%(tx)s", "('p' || :tx)")
                 .replace("%(training)s", "false").replace("%(code)s", "(:code)::text")
                 .replace("%(document)s", "'smart_card'").replace("%(terminal)s", "'t-pgbench'")
                 .replace("%(branch)s", "'b-pgbench'").replace("%(district)s", "'d-pgbench'")
                 .replace("%(at)s", "now()").replace("%(status)s", "'eligible'")
                 .replace("%(born_by)s", "date '2008-06-12'").replace("%(tag)s", "(:tx)::bigint"))
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "reserve.sql"
        script.write_text(f"\\set v random(1, {voters})\n\\set tx random(1, 1000000000000000)\n"
                          "\\set code random(100000000, 999999999)\n"
                          + " ".join(line.strip() for line in statement.strip().splitlines()) + ";\n")
        for count in clients:
            before = _load()
            command = [str(pgbench), "-n", "-M", "prepared", "-f", str(script), "-c", str(count),
                       "-j", str(min(count, 2)), "-T", str(seconds), "-h", str(cluster.socket_dir),
                       "-p", str(PORT), "-U", SUPERUSER, dbname]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            tps = [line for line in done.stdout.splitlines() if line.startswith("tps")]
            print(f"  pgbench    {count:2d} clients: {tps[0] if tps else done.stderr.strip()[-300:]} "
                  f"({before}, after {_load()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reserves", type=int, default=4000, help="reserves per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", default=",".join(map(str, WORKERS)), help="comma-separated worker counts")
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="0: no pgbench ceiling")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="a postgresql.conf line for the bench cluster (over BENCH_SETTINGS)")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    engines = args.engines.split(",")
    settings = {**BENCH_SETTINGS, **dict(item.split("=", 1) for item in args.setting)}
    print(f"registry reserves/s, {args.reserves} distinct voters per run, medians of {args.runs} runs; each worker "
          f"a process with its own connection, one reserve statement (one round trip) each; {os.cpu_count()} "
          f"cores, {_load()}")
    figures: dict[str, dict[int, float]] = {}
    if "sqlite" in engines:
        print("  SQLite: WAL, synchronous=FULL")
        with tempfile.TemporaryDirectory() as folder:
            figures["SQLite"] = _measure("SQLite", Path(folder) / "registry.sqlite", args.reserves, args.runs,
                                         workers)
    if "postgresql" in engines:
        with PostgresCluster(settings=settings) as cluster:
            print(f"  PostgreSQL {cluster.server_version()}: fsync, synchronous_commit and full_page_writes on, one "
                  f"node, Unix socket; {', '.join(f'{k}={v}' for k, v in settings.items())}")
            figures["PostgreSQL"] = _measure("PostgreSQL", PostgresSettings(cluster.create_database("bench"), 1),
                                             args.reserves, args.runs, workers)
            if args.pgbench_seconds:
                dbname = "pgbench"
                database = open_database(PostgresSettings(cluster.create_database(dbname), 1))
                database.close()
                _pgbench(cluster, dbname, 2_000_000, workers, args.pgbench_seconds)
    print("workers      " + "".join(f"{w:>10d}" for w in workers))
    for name, figure in figures.items():
        print(f"{name:12s} " + "".join(f"{figure[w]:>10,.0f}" for w in workers))


if __name__ == "__main__":
    main()
