"""Center reserves per second on SQLite (WAL, synchronous=FULL): one terminal, several at once, whole responder."""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from center.eligibility import VoterStatus
from center.enrolled import EnrolledTerminal
from center.rate_limit import UNLIMITED
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.responder import Reply, Responder
from center.synthetic_roll import RollShares, generate_roll
from protocol.messages import DocumentKind, Request, RequestHeader, ReserveBody
from protocol.national_code import NationalCode
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    public_part,
    seal_national_code,
    sign_request,
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


def _responder_rate(folder: Path, voters: int, seed: int) -> float:
    """Whole center handling of one reserve without the network: parse, unseal, reserve, sign."""
    database, codes = _fresh_database(folder, voters, seed)
    signing, sealing = generate_signing_key(), generate_sealing_key()
    registry = Registry(database, date.fromisoformat(ELECTION_DAY_ISO), voter_key=VOTER_KEY)
    terminal_key = generate_signing_key()
    enrolment = EnrolledTerminal("t-1", "branch-1", "d-bench", "E-bench", public_part(terminal_key))
    responder = Responder(registry, "d-bench", signing, sealing, enrolled={"t-1": enrolment},
                          rate_limit=UNLIMITED, answer_quota=10**9)
    payloads = [
        sign_request(
            Request(
                RequestHeader(claim.tx_id, claim.tx_id, "t-1", "branch-1", "d-bench", datetime.now(UTC)),
                ReserveBody(seal_national_code(claim.national_code, public_part(sealing)), claim.document, False),
            ),
            terminal_key,
        )
        for claim in _claims(codes, 1)
    ]
    topic = request_topic("d-bench", "t-1")
    started = time.perf_counter()
    for payload in payloads:
        assert isinstance(responder.handle(topic, payload), Reply)
    elapsed = time.perf_counter() - started
    registry.close()
    return len(payloads) / elapsed


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
        handled = [_responder_rate(folder, args.voters, 1000 + run) for run in range(args.runs)]
        print(f"  {'responder, one worker':<24} {statistics.median(handled):>8.0f} reserves/s"
              " (parse, unseal JWE, reserve, sign JWS; no network)")


if __name__ == "__main__":
    main()
