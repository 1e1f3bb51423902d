"""A national roll of 5 million synthetic voters loaded with COPY into a private PostgreSQL: generation and load time,
rows/s, size on disk; then reserves/s against it beside a small roll, to show the rate does not fall with the roll."""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import secrets
import statistics
import time
from collections.abc import Sequence
from datetime import date
from multiprocessing.synchronize import Barrier

import psycopg

from center.eligibility import ineligible_reason
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.storage import PostgresSettings, open_database
from center.synthetic_roll import stream_roll
from harness.postgres import BENCH_SETTINGS, PostgresCluster
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode

ELECTION_DAY = date(2026, 6, 12)
VOTER_KEY = b"bench roll load voter key, 32 b"
CLUSTER_SETTINGS = {**BENCH_SETTINGS, "max_wal_size": "'8GB'", "shared_buffers": "'1GB'",
                    "maintenance_work_mem": "'512MB'"}
"""The benches' settings (group commit, WAL room), with more WAL and shared buffers a national roll's index fits in."""


def _worker(dsn: str, codes: Sequence[str], index: int, start: Barrier,
            results: multiprocessing.Queue[tuple[float, float, int]]) -> None:
    """One center worker process with one connection: one reserve per voter of its share."""
    database = open_database(PostgresSettings(dsn, pool_size=1))
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    who = Requester(f"t-{index}", f"b-{index}", "d-roll")
    claims = [ReserveClaim(secrets.token_hex(16), NationalCode(code), DocumentKind.SMART_CARD, False, who)
              for code in codes]
    start.wait()
    began = time.perf_counter()
    granted = sum(isinstance(registry.reserve(claim), Reserved) for claim in claims)
    ended = time.perf_counter()
    database.close()
    results.put((began, ended, granted))


def _reserve_rate(dsn: str, codes: list[str], workers: int) -> float:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results: multiprocessing.Queue[tuple[float, float, int]] = context.Queue()
    processes = [context.Process(target=_worker, args=(dsn, codes[i::workers], i, start, results))
                 for i in range(workers)]
    for process in processes:
        process.start()
    done = [results.get() for _ in processes]
    for process in processes:
        process.join()
    if sum(granted for _, _, granted in done) != len(codes):
        raise RuntimeError("every sampled voter is eligible and distinct, and should have been reserved once")
    return len(codes) / (max(end for _, end, _ in done) - min(began for began, _, _ in done))


def _load(cluster: PostgresCluster, name: str, voters: int, seed: int) -> tuple[str, list[NationalCode], float,
                                                                                  float]:
    """A database with a roll of `voters` (made, then loaded through the registry's COPY); its dsn, the roll's
    eligible codes, the generation and the load time."""
    dsn = cluster.create_database(name)
    database = open_database(PostgresSettings(dsn, pool_size=1))
    gc.disable()  # millions of long-lived records and no cycles: the cyclic collector would only rescan them
    try:
        began = time.perf_counter()
        roll = list(stream_roll(voters, seed, ELECTION_DAY))
        generated = time.perf_counter() - began
        began = time.perf_counter()
        loaded = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY).load_roll(roll)
        load_time = time.perf_counter() - began
    finally:
        gc.enable()
    database.close()
    if loaded != voters:
        raise RuntimeError(f"the roll did not load: {loaded}")
    eligible = [record.national_code for record in roll if ineligible_reason(record, ELECTION_DAY) is None]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE voters")
    return dsn, eligible, generated, load_time


def _sizes(dsn: str) -> tuple[int, int, int]:
    """The voters table's heap, its indexes, and both (pg_total_relation_size), in bytes."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_relation_size('voters'), pg_indexes_size('voters'),"
                           " pg_total_relation_size('voters')").fetchone()
    if row is None:
        raise RuntimeError("no voters table")
    return int(row[0]), int(row[1]), int(row[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the small roll the reserve rate is compared to")
    parser.add_argument("--workers", type=int, default=4, help="reserving processes, one connection each")
    parser.add_argument("--reserves", type=int, default=4_000, help="reserves per run")
    parser.add_argument("--runs", type=int, default=5, help="reserve runs on each roll, alternated")
    parser.add_argument("--seed", type=int, default=1404)
    args = parser.parse_args()
    mib = 1024 * 1024
    with PostgresCluster(settings=CLUSTER_SETTINGS) as cluster:
        print(f"national roll: {args.voters:,} synthetic voters (center.synthetic_roll.stream_roll, 10 % "
              f"ineligible; Python's cyclic GC off meanwhile), loaded by Registry.load_roll (keyed hash each, one "
              f"COPY, one transaction) into PostgreSQL {cluster.server_version()} on one node, fsync on; "
              f"{', '.join(f'{k}={v}' for k, v in CLUSTER_SETTINGS.items())}; {os.cpu_count()} cores, load "
              f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
        big, big_codes, generated, load_time = _load(cluster, "nation", args.voters, args.seed)
        heap, indexes, total = _sizes(big)
        print(f"  generated in {generated:.1f} s ({args.voters / generated:,.0f} voters/s); loaded in "
              f"{load_time:.1f} s ({args.voters / load_time:,.0f} rows/s); on disk: table {heap / mib:,.0f} MiB + "
              f"primary key {indexes / mib:,.0f} MiB = {total / mib:,.0f} MiB "
              f"({total / args.voters:.0f} bytes a voter)", flush=True)
        small, small_codes, _, _ = _load(cluster, "district", args.small, args.seed + 1)
        sample = random.Random(args.seed)
        needed = args.reserves * args.runs
        codes = {"big": [c.digits for c in sample.sample(big_codes, needed)],
                 "small": [c.digits for c in sample.sample(small_codes, needed)]}
        del big_codes, small_codes
        rates: dict[str, list[float]] = {"big": [], "small": []}
        for run in range(args.runs):
            for name, dsn in (("big", big), ("small", small))[::1 if run % 2 == 0 else -1]:
                share = codes[name][run * args.reserves:(run + 1) * args.reserves]
                rates[name].append(_reserve_rate(dsn, share, args.workers))
        for name, count in (("big", args.voters), ("small", args.small)):
            print(f"  reserves/s on the {count:,}-voter roll, {args.workers} workers, random eligible voters: median "
                  f"{statistics.median(rates[name]):,.0f} (runs: {', '.join(f'{r:,.0f}' for r in rates[name])})",
                  flush=True)


if __name__ == "__main__":
    main()
