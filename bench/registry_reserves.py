"""The registry alone: reserves per second on SQLite and on PostgreSQL, durable commits, 1 to 32 concurrent workers."""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from multiprocessing.synchronize import Barrier
from pathlib import Path

from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.storage import PostgresSettings, RegistryLocation, open_database
from center.synthetic_roll import RollShares, generate_roll
from harness.postgres import PostgresCluster
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode

ELECTION_DAY = date(2026, 6, 12)
VOTER_KEY = b"bench registry voter key, 32 b."
WORKERS = (1, 4, 16, 32)


def _worker(location: RegistryLocation, codes: Sequence[str], index: int, start: Barrier,
            results: multiprocessing.Queue[tuple[float, float, int]]) -> None:
    """One worker process with one connection of its own: its share of the voters, one reserve each."""
    if isinstance(location, PostgresSettings):
        location = PostgresSettings(location.dsn, pool_size=1)
    database = open_database(location)
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    who = Requester(f"t-{index}", f"branch-{index}", "d-bench")
    claims = [ReserveClaim(secrets.token_hex(16), NationalCode(code), DocumentKind.SMART_CARD, False, who)
              for code in codes]
    start.wait()
    began = time.perf_counter()
    granted = sum(isinstance(registry.reserve(claim), Reserved) for claim in claims)
    ended = time.perf_counter()
    registry.close()
    database.close()
    results.put((began, ended, granted))


def _run(location: RegistryLocation, codes: list[str], workers: int) -> float:
    """Reserves per second of `workers` processes together, from the first start to the last end."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results: multiprocessing.Queue[tuple[float, float, int]] = context.Queue()
    processes = [context.Process(target=_worker, args=(location, codes[i::workers], i, start, results))
                 for i in range(workers)]
    for process in processes:
        process.start()
    done = [results.get() for _ in processes]
    for process in processes:
        process.join()
    granted = sum(g for _, _, g in done)
    if granted != len(codes):
        raise RuntimeError(f"{granted} of {len(codes)} voters were reserved; each should have been once")
    return len(codes) / (max(e for _, e, _ in done) - min(b for b, _, _ in done))


def _measure(name: str, location: RegistryLocation, reserves: int, runs: int) -> dict[int, float]:
    roll = generate_roll(reserves * runs * len(WORKERS), 5, ELECTION_DAY, RollShares(0, 0, 0))
    database = open_database(location)
    loader = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    loader.load_roll(roll)
    loader.close()
    database.close()
    codes = iter([record.national_code.digits for record in roll])
    figures: dict[int, float] = {}
    for workers in WORKERS:
        rates = [_run(location, [next(codes) for _ in range(reserves)], workers) for _ in range(runs)]
        figures[workers] = statistics.median(rates)
        print(f"  {name:10s} {workers:2d} workers: median {figures[workers]:8,.0f} reserves/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reserves", type=int, default=4000, help="reserves per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"registry reserves/s, {args.reserves} distinct voters per run, medians of {args.runs} runs; each worker "
          "a process with its own connection; SQLite WAL synchronous=FULL, PostgreSQL fsync and synchronous_commit "
          "on, one node, Unix socket")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = _measure("SQLite", Path(folder) / "registry.sqlite", args.reserves, args.runs)
    with PostgresCluster() as cluster:
        postgres = _measure("PostgreSQL", PostgresSettings(cluster.create_database("bench"), 1), args.reserves,
                            args.runs)
    print("workers      " + "".join(f"{w:>10d}" for w in WORKERS))
    for name, figures in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        print(f"{name:12s} " + "".join(f"{figures[w]:>10,.0f}" for w in WORKERS))


if __name__ == "__main__":
    main()
