"""Center reserves per second on SQLite (WAL, synchronous=FULL): the registry with several terminals at once, then
the whole responder (verify, unseal, reserve, sign) in one thread, two threads of one process and two processes,
with its CPU per reserve by stage: two threads serve no more than one, because every stage holds the GIL."""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from center.eligibility import VoterStatus
from center.enrolled import EnrolledTerminal
from center.rate_limit import UNLIMITED
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.responder import Reply, Responder
from center.synthetic_roll import RollShares, generate_roll
from center.worker_cpu import Handled, Stage, StageTotals
from protocol.messages import (
    Answer,
    AnswerHeader,
    DocumentKind,
    Request,
    RequestHeader,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
)
from protocol.national_code import NationalCode
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_request,
    public_part,
    seal_national_code,
    sign_answer,
    sign_request,
    unseal_national_code,
)
from protocol.topics import request_topic

ELECTION_DAY_ISO = "2026-06-12"


def _claims(codes: Sequence[str], terminal: int) -> list[ReserveClaim]:
    who = Requester(f"t-{terminal}", f"branch-{terminal}", "d-bench")
    return [
        ReserveClaim(secrets.token_hex(16), NationalCode(code), DocumentKind.SMART_CARD, False, who) for code in codes
    ]


VOTER_KEY = b"bench registry voter key, 32 b."
"""Fixed so that the worker processes hash national codes like the loader did."""


def _reserve_all(database: str, codes: Sequence[str], terminal: int) -> int:
    """One terminal's voters, one connection; returns how many got an inquiry code."""
    registry = Registry(Path(database), date.fromisoformat(ELECTION_DAY_ISO), voter_key=VOTER_KEY)
    try:
        return sum(isinstance(registry.reserve(claim), Reserved) for claim in _claims(codes, terminal))
    finally:
        registry.close()


def _fresh_database(folder: Path, voters: int, seed: int) -> tuple[Path, list[str]]:
    path = folder / f"registry-{seed}.sqlite"
    roll = generate_roll(voters, seed, date.fromisoformat(ELECTION_DAY_ISO), RollShares(0, 0, 0))
    registry = Registry(path, date.fromisoformat(ELECTION_DAY_ISO), voter_key=VOTER_KEY)
    registry.load_roll(roll)
    registry.close()
    assert all(record.status is VoterStatus.ELIGIBLE for record in roll)
    return path, [record.national_code.digits for record in roll]


def _run_threads(database: Path, codes: list[str], terminals: int) -> float:
    shares = [codes[i::terminals] for i in range(terminals)]
    granted = [0] * terminals

    def terminal(index: int) -> None:
        granted[index] = _reserve_all(str(database), shares[index], index)

    threads = [threading.Thread(target=terminal, args=(i,)) for i in range(terminals)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert sum(granted) == len(codes), "every voter should have been reserved exactly once"
    return len(codes) / elapsed


def _run_processes(database: Path, codes: list[str], workers: int) -> float:
    shares = [codes[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pool.submit(time.sleep, 0).result()
        started = time.perf_counter()
        granted = list(pool.map(_reserve_all, [str(database)] * workers, shares, range(workers)))
        elapsed = time.perf_counter() - started
    assert sum(granted) == len(codes), "every voter should have been reserved exactly once"
    return len(codes) / elapsed


def _responder_share(database: str, codes: Sequence[str], index: int, start_at: float, crypto_only: bool = False
                     ) -> tuple[float, float, float, tuple[int, ...]]:
    """One responder (its own registry connection, its own terminal) handling `codes`' reserves from `start_at`
    (time.time()) without the network: verify, unseal, reserve, sign. Returns its start, end, the CPU seconds its
    thread used meanwhile and its StageTotals. `crypto_only`: only the protocol's part, no registry (verify and
    parse the request, unseal the code, sign an answer), to see the GIL apart from the database."""
    signing, sealing = generate_signing_key(), generate_sealing_key()
    registry = Registry(Path(database), date.fromisoformat(ELECTION_DAY_ISO), voter_key=VOTER_KEY)
    terminal_key = generate_signing_key()
    terminal = f"t-{index}"
    enrolment = EnrolledTerminal(terminal, f"branch-{index}", "d-bench", "E-bench", public_part(terminal_key))
    responder = Responder(registry, "d-bench", signing, sealing, enrolled={terminal: enrolment},
                          rate_limit=UNLIMITED, answer_quota=10**9)
    payloads = [
        sign_request(
            Request(
                RequestHeader(claim.tx_id, claim.tx_id, terminal, f"branch-{index}", "d-bench", datetime.now(UTC)),
                ReserveBody(seal_national_code(claim.national_code, public_part(sealing)), claim.document, False),
            ),
            terminal_key,
        )
        for claim in _claims(codes, index)
    ]
    topic = request_topic("d-bench", terminal)
    answer = Answer(RequestKind.RESERVE, AnswerHeader("0" * 32, "0" * 32, terminal, datetime.now(UTC)),
                    ReserveAnswer(ReserveOutcome.ELIGIBLE, "123456789", None, None, None, None))
    time.sleep(max(0.0, start_at - time.time()))
    started, cpu = time.time(), time.thread_time()
    for payload in payloads:
        if crypto_only:
            request = open_request(payload, enrolment.signing_key)
            assert isinstance(request, Request) and isinstance(request.body, ReserveBody)
            assert isinstance(unseal_national_code(request.body.sealed_voter, sealing), NationalCode)
            sign_answer(answer, signing)
        else:
            assert isinstance(responder.handle(topic, payload), Reply)
    ended, cpu = time.time(), time.thread_time() - cpu
    registry.close()
    return started, ended, cpu, responder.status().cpu.values


def _responder_rate(folder: Path, voters: int, seed: int, responders: int, kind: str, crypto_only: bool = False
                    ) -> tuple[float, float, StageTotals]:
    """Reserves/s of `responders` responders as threads of this process or as processes; the CPU seconds they used
    per second (at most 1.0 for threads under the GIL); their StageTotals."""
    database, codes = _fresh_database(folder, voters, seed)
    shares = [codes[i::responders] for i in range(responders)]
    start_at = time.time() + (3.0 if kind == "processes" else 1.0)
    pool = (ThreadPoolExecutor(responders) if kind == "threads"
            else ProcessPoolExecutor(responders, mp_context=multiprocessing.get_context("spawn")))
    with pool:
        results = list(pool.map(_responder_share, [str(database)] * responders, shares, range(responders),
                                [start_at] * responders, [crypto_only] * responders))
    began, ended = min(r[0] for r in results), max(r[1] for r in results)
    totals = StageTotals.empty()
    for result in results:
        totals = totals + StageTotals(result[3])
    return voters / (ended - began), sum(r[2] for r in results) / (ended - began), totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1500, help="reservations per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is printed")
    args = parser.parse_args()
    print(f"center reserves per second, SQLite WAL synchronous=FULL, {args.voters} voters, median of {args.runs}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = 0
        for label, kind, count in [
            ("1 terminal", "threads", 1),
            ("4 terminals (threads)", "threads", 4),
            ("16 terminals (threads)", "threads", 16),
            ("2 center processes", "processes", 2),
            ("4 center processes", "processes", 4),
        ]:
            rates = []
            for _ in range(args.runs):
                seed += 1
                database, codes = _fresh_database(folder, args.voters, seed)
                run = _run_threads if kind == "threads" else _run_processes
                rates.append(run(database, codes, count))
            print(f"  {label:<24} {statistics.median(rates):>8.0f} reserves/s")
        print("  the protocol's part alone (verify and parse the request, unseal the code, sign an answer):")
        seed = 2000
        for label, responders, kind in [("1 thread", 1, "threads"), ("2 threads, 1 process", 2, "threads"),
                                        ("2 processes", 2, "processes")]:
            runs = []
            for _ in range(args.runs):
                seed += 1
                runs.append(_responder_rate(folder, args.voters, seed, responders, kind, crypto_only=True))
            middle = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
            print(f"  {label:<24} {middle[0]:>8.0f} requests/s   CPU s/s {middle[1]:.2f}")
        print("  whole responder (verify JWS, unseal JWE, reserve, sign JWS; no network), CPU µs per reserve:")
        seed = 1000
        for label, responders, kind in [("1 thread", 1, "threads"), ("2 threads, 1 process", 2, "threads"),
                                        ("2 processes", 2, "processes")]:
            runs = []
            for _ in range(args.runs):
                seed += 1
                runs.append(_responder_rate(folder, args.voters, seed, responders, kind))
            rates = [run[0] for run in runs]
            middle = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
            cpu = middle[2]
            stages = "  ".join(f"{stage.name.lower()} {cpu.microseconds_each(Handled.RESERVE, stage):4.0f}"
                               for stage in Stage)
            print(f"  {label:<24} {statistics.median(rates):>8.0f} reserves/s   {stages}   "
                  f"CPU s/s {middle[1]:.2f}")


if __name__ == "__main__":
    main()
