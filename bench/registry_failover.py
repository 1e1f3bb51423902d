"""Failover of the national registry under load: from killing the primary to the first answered reserve, the
acknowledged reservations lost (must be 0), and what the synchronous standby costs in reserves/s."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.storage import PostgresSettings, RegistryDatabase, RegistryUnavailableError, open_database
from center.storage.postgres import RESERVE_STATEMENT
from center.synthetic_roll import RollShares, generate_roll
from harness.patroni import LOOPBACK, HaTiming, MemberRole, PatroniCluster
from harness.postgres import SUPERUSER, server_bin_dir
from protocol.messages import DocumentKind
from protocol.national_code import NationalCode

ELECTION_DAY = date(2026, 6, 12)
VOTER_KEY = b"bench failover voter key, 32 b."
WARM_UP_S = 2.0
"""Reserving before the kill."""
AFTER_S = 2.0
"""Reserving after the first answer from the new primary."""
RETRY_PAUSE_S = 0.01
PGBENCH_CLIENTS = 16
PGBENCH_VOTERS = 200_000
PGBENCH_VALUES = {
    "voter": "md5(:v::text)", "tx": "('p' || :tx)", "training": "false", "code": "(:code)::text",
    "document": "'smart_card'", "terminal": "'t-pgbench'", "branch": "'b-pgbench'", "district": "'d-pgbench'",
    "at": "now()", "status": "'eligible'", "born_by": "date '2008-06-12'", "tag": "(:tx)::bigint",
}
"""pgbench's values for the reserve statement's parameters (random voters of PGBENCH_VOTERS, so a few are held)."""


@dataclass(frozen=True)
class Run:
    promoted_s: float
    """From the SIGKILL to the new primary accepting writes (the harness polling it every 0.1 s)."""
    answered_s: float
    """From the SIGKILL to the first reserve the center answered that was sent after it."""
    acknowledged: int
    lost: int
    unanswered: int
    """Reserves left unanswered (RegistryUnavailableError) during the failover, all retried until answered."""
    sync_rate: float
    local_rate: float
    pgbench_sync: float
    pgbench_local: float


@dataclass
class _Load:
    codes: list[NationalCode]
    workers: int
    acknowledged: dict[str, str] = field(default_factory=dict)
    """tx_id → inquiry code of every reserve answered."""
    first_after: float | None = None
    kill_at: float | None = None
    unanswered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)

    def wait(self, done: Callable[[], bool]) -> None:
        while not done():
            if self.errors:
                raise RuntimeError("a center worker failed") from self.errors[0]
            time.sleep(0.01)


def _reserver(database: RegistryDatabase, index: int, load: _Load) -> None:
    """One center worker: reserve its voters one after another; a reserve left unanswered is sent again with the
    same transaction id (as the terminal does), until answered."""
    try:
        _reserve_all(Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY), index, load)
    except BaseException as exc:
        load.errors.append(exc)
        raise


def _reserve_all(registry: Registry, index: int, load: _Load) -> None:
    who = Requester(f"t-{index}", f"b-{index}", "d-bench")
    for code in load.codes[index::load.workers]:
        claim = ReserveClaim(secrets.token_hex(16), code, DocumentKind.SMART_CARD, False, who)
        while not load.stop.is_set():
            sent = time.monotonic()
            try:
                answer = registry.reserve(claim)
            except RegistryUnavailableError:
                with load.lock:
                    load.unanswered += 1
                time.sleep(RETRY_PAUSE_S)
                continue
            if not isinstance(answer, Reserved):
                raise RuntimeError(f"a distinct eligible voter was refused: {answer}")
            with load.lock:
                load.acknowledged[claim.tx_id] = answer.inquiry_code
                if load.kill_at is not None and sent > load.kill_at and load.first_after is None:
                    load.first_after = time.monotonic()
            break
        if load.stop.is_set():
            return
    raise RuntimeError("the bench ran out of voters; give it more (--voters)")


def _rate(settings: PostgresSettings, codes: Sequence[NationalCode], workers: int) -> float:
    """Reserves per second of `workers` threads over `codes`, one pool."""
    database = open_database(settings)
    registries = [Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY) for _ in range(workers)]

    def work(index: int) -> None:
        who = Requester(f"r-{index}", f"b-{index}", "d-bench")
        for code in codes[index::workers]:
            registries[index].reserve(ReserveClaim(secrets.token_hex(16), code, DocumentKind.SMART_CARD, False, who))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(codes) / (time.perf_counter() - began)
    database.close()
    return rate


def _costs(cluster: PatroniCluster, codes: list[NationalCode], workers: int) -> tuple[float, float]:
    """Reserves/s of the center's workers waiting for the standby's flush (synchronous_commit on) and waiting only
    for the local flush (synchronous_commit = local, a diagnostic, never the registry's setting), alternated twice;
    the medians."""
    settings = {
        "on": PostgresSettings(cluster.login("bench"), workers, cluster.hosts),
        "local": PostgresSettings(cluster.login("bench") + " options='-c synchronous_commit=local'", workers,
                                  cluster.hosts),
    }
    quarter = len(codes) // 4
    rates: dict[str, list[float]] = {"on": [], "local": []}
    for round_ in range(4):
        mode = ("on", "local")[round_ % 2]
        rates[mode].append(_rate(settings[mode], codes[round_ * quarter:(round_ + 1) * quarter], workers))
    return statistics.median(rates["on"]), statistics.median(rates["local"])


def _pgbench(cluster: PatroniCluster, clients: int, seconds: int) -> tuple[float, float]:
    """The same pair with pgbench (C, no client work) running the registry's reserve statement: tps."""
    pgbench = server_bin_dir() / "pgbench"
    with psycopg.connect(cluster.dsn("bench"), autocommit=True) as conn:
        conn.execute("INSERT INTO voters SELECT md5(i::text), date '1980-01-01', 'x', 'eligible'"
                     " FROM generate_series(1, %s) AS i", (PGBENCH_VOTERS,))
        conn.execute("VACUUM ANALYZE voters")
    statement = RESERVE_STATEMENT
    for name, value in PGBENCH_VALUES.items():
        statement = statement.replace(f"%({name})s", value)
    leader = next(m for m in cluster.members() if m.role is MemberRole.LEADER)
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "reserve.sql"
        script.write_text(f"\\set v random(1, {PGBENCH_VOTERS})\n\\set tx random(1, 1000000000000000)\n"
                          "\\set code random(100000000, 999999999)\n"
                          + " ".join(line.strip() for line in statement.strip().splitlines()) + ";\n")
        for mode in ("on", "local"):
            environment = {**os.environ, "PGPASSWORD": cluster.password,
                           "PGOPTIONS": f"-c synchronous_commit={mode}"}
            done = subprocess.run(
                [str(pgbench), "-n", "-M", "prepared", "-f", str(script), "-c", str(clients), "-j", "2", "-T",
                 str(seconds), "-h", LOOPBACK, "-p", str(leader.port), "-U", SUPERUSER, "bench"],
                capture_output=True, text=True, check=False, env=environment)
            tps = [line.split()[2] for line in done.stdout.splitlines() if line.startswith("tps")]
            if not tps:
                raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-500:]}")
            rates[mode] = float(tps[0])
    return rates["on"], rates["local"]


def _one_run(nodes: int, timing: HaTiming, workers: int, voters: int, cost_reserves: int,
             pgbench_seconds: int) -> Run:
    with PatroniCluster(nodes=nodes, timing=timing) as cluster:
        cluster.create_database("bench")
        settings = PostgresSettings(cluster.login("bench"), workers + 1, cluster.hosts)
        roll = generate_roll(voters + cost_reserves, secrets.randbelow(2**31), ELECTION_DAY, RollShares(0, 0, 0))
        database = open_database(settings)
        Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY).load_roll(roll)
        codes = [record.national_code for record in roll]
        sync_rate, local_rate = _costs(cluster, codes[:cost_reserves], workers) if cost_reserves else (0.0, 0.0)
        pgbench = _pgbench(cluster, PGBENCH_CLIENTS, pgbench_seconds) if pgbench_seconds else (0.0, 0.0)
        load = _Load(codes[cost_reserves:], workers)
        threads = [threading.Thread(target=_reserver, args=(database, i, load), daemon=True) for i in range(workers)]
        for thread in threads:
            thread.start()
        warm = time.monotonic() + WARM_UP_S
        load.wait(lambda: time.monotonic() > warm)
        killed = cluster.kill_primary()
        with load.lock:
            load.kill_at = killed.at
        cluster.wait_for_promotion(killed)
        promoted = time.monotonic()
        load.wait(lambda: load.first_after is not None)
        answered = time.monotonic() + AFTER_S
        load.wait(lambda: time.monotonic() > answered)
        load.stop.set()
        for thread in threads:
            thread.join()
        rows = {row.tx_id: row.inquiry_code
                for row in Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY).reservations()}
        lost = sum(rows.get(tx) != code for tx, code in load.acknowledged.items())
        database.close()
        first_after = load.first_after or promoted
        return Run(promoted - killed.at, first_after - killed.at, len(load.acknowledged), lost, load.unanswered,
                   sync_rate, local_rate, *pgbench)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=2, choices=(2, 3))
    parser.add_argument("--workers", type=int, default=4, help="center worker threads, one pool")
    parser.add_argument("--voters", type=int, default=40_000, help="voters for the failover load of each run")
    parser.add_argument("--cost-reserves", type=int, default=4_000,
                        help="reserves measured with and without waiting for the standby (0: not measured)")
    parser.add_argument("--pgbench-seconds", type=int, default=5, help="0: no pgbench pair")
    parser.add_argument("--ttl", type=int, default=HaTiming.ttl)
    parser.add_argument("--loop-wait", type=int, default=HaTiming.loop_wait)
    parser.add_argument("--retry-timeout", type=int, default=HaTiming.retry_timeout)
    args = parser.parse_args()
    for noisy in ("psycopg.pool", "center.storage.postgres"):
        logging.getLogger(noisy).setLevel(logging.ERROR)  # the pool's reconnection warnings during each failover
    timing = HaTiming(args.ttl, args.loop_wait, args.retry_timeout)
    print(f"registry failover: {args.nodes} PostgreSQL nodes under Patroni with etcd, synchronous mode, "
          f"synchronous_commit on; ttl {timing.ttl} s, loop_wait {timing.loop_wait} s, retry_timeout "
          f"{timing.retry_timeout} s; {args.workers} center workers reserving; {args.runs} runs; {os.cpu_count()} "
          f"cores, load {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        run = _one_run(args.nodes, timing, args.workers, args.voters, args.cost_reserves, args.pgbench_seconds)
        runs.append(run)
        costs = (f"; reserves/s waiting for the standby / local commit only: workers {run.sync_rate:,.0f} / "
                 f"{run.local_rate:,.0f}, pgbench {PGBENCH_CLIENTS} clients {run.pgbench_sync:,.0f} / "
                 f"{run.pgbench_local:,.0f}") if args.cost_reserves or args.pgbench_seconds else ""
        print(f"  run {number}: primary killed → new primary writable {run.promoted_s:5.2f} s, → first answered "
              f"reserve {run.answered_s:5.2f} s; {run.acknowledged:,} acknowledged, {run.lost} lost, "
              f"{run.unanswered:,} unanswered tries retried{costs}", flush=True)
    costs = (f"; reserves/s waiting for the standby / local commit only: workers "
             f"{statistics.median(r.sync_rate for r in runs):,.0f} / {statistics.median(r.local_rate for r in runs):,.0f}"
             f", pgbench {statistics.median(r.pgbench_sync for r in runs):,.0f} / "
             f"{statistics.median(r.pgbench_local for r in runs):,.0f}") if args.cost_reserves or args.pgbench_seconds \
        else ""
    print(f"median: killed → first answered reserve {statistics.median(r.answered_s for r in runs):.2f} s "
          f"(→ new primary {statistics.median(r.promoted_s for r in runs):.2f} s); lost acknowledged reservations: "
          f"{sum(r.lost for r in runs)} in {sum(r.acknowledged for r in runs):,}{costs}")


if __name__ == "__main__":
    main()
