"""A seeded model of the nation in degraded mode: double votes that could pass during an outage, with and without
the "already voted" snapshot, and the snapshot's size and refresh traffic (measured with the real encoder)."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from center.voted_snapshot import build_chunks, encode_run, rice_bits
from protocol.seal import generate_signing_key, sign_snapshot_chunk
from protocol.voted_snapshot import MAX_CHUNK_TAGS, ChunkKind, VotedFilter

BRANCHES = 66_000
ELIGIBLE = 59_000_000
VOTES = 29_000_000
DAY_MINUTES = 19 * 60
"""07:00 to 02:00."""
HOURLY_SHAPE = np.array([0.3, 0.6, 1.0, 1.6, 2.4, 1.6, 0.9, 0.6, 0.6, 0.8, 1.2, 2.0, 3.2, 2.0, 0.9, 0.4, 0.2,
                         0.1, 0.05])
"""Relative turnout per hour from 07:00, a late-morning and a larger evening peak; scaled so the day totals VOTES
(the 19:00 hour then runs at about 1,260 slips/s, the national peak)."""
TERMINALS_PER_BRANCH = 2
DISTRICTS = 430
LARGEST_DISTRICT_SHARE = 0.08
ATTEMPT_RATE = 0.001
"""Voters who, having voted, try again at another branch (0.1 %)."""
SECOND_DELAY_MEAN = 90.0
SAME_DISTRICT = 0.85
OUTAGE_START = 11 * 60
"""18:00, as the evening peak builds: load is what broke the check in 2021."""
PUBLICATION_LAG = 1.0
"""Minutes from a commit at the center to the snapshot delta that carries it."""
RECONCILE_LAG = 2.0
"""Minutes from the end of a branch's outage to its offline slips being known to the center."""
NATION_TAG_BITS, DISTRICT_TAG_BITS = 36, 32


def _per_minute() -> npt.NDArray[np.float64]:
    minutes: npt.NDArray[np.float64] = np.repeat(HOURLY_SHAPE, 60).astype(np.float64)
    return minutes * (VOTES / float(minutes.sum()))


@dataclass(frozen=True)
class Outcome:
    passed: float
    during: float
    """Of those passed: the first slip came out after the outage began (online or offline), so no snapshot held
    by an offline terminal can know it."""


def simulate(rng: np.random.Generator, minutes: int, share: float, refresh: float | None, national: bool,
             reps: int) -> Outcome:
    """Mean over `reps` days of second attempts that got a slip: an outage of `minutes` at `share` of branches,
    a snapshot refreshed every `refresh` minutes (None: no snapshot), national or district scope."""
    rate = _per_minute()
    attempters = int(VOTES * ATTEMPT_RATE)
    end = OUTAGE_START + minutes
    passed, during = 0, 0
    for _ in range(reps):
        t1 = rng.choice(DAY_MINUTES, attempters, p=rate / rate.sum()) + rng.random(attempters)
        t2 = t1 + rng.exponential(SECOND_DELAY_MEAN, attempters)
        b1 = rng.integers(0, BRANCHES, attempters)
        d1 = b1 % DISTRICTS
        same = rng.random(attempters) < SAME_DISTRICT
        d2 = np.where(same, d1, rng.integers(0, DISTRICTS, attempters))
        b2 = d2 + DISTRICTS * rng.integers(0, BRANCHES // DISTRICTS, attempters)
        out = rng.random(BRANCHES) < share
        phase = rng.random(BRANCHES)
        live = t2 < DAY_MINUTES
        off1 = out[b1] & (t1 >= OUTAGE_START) & (t1 < end)
        off2 = out[b2] & (t2 >= OUTAGE_START) & (t2 < end) & live
        if refresh is None:
            caught_offline = np.zeros(attempters, dtype=bool)
        else:
            held_until = OUTAGE_START - phase[b2] * refresh - PUBLICATION_LAG
            caught_offline = ~off1 & (t1 < held_until) & (True if national else (d1 == d2))
        pass_offline = off2 & ~caught_offline
        pass_online = live & ~off2 & off1 & (t2 < end + RECONCILE_LAG)
        passed += int(pass_offline.sum() + pass_online.sum())
        during += int(((pass_offline | pass_online) & (t1 >= OUTAGE_START)).sum())
    return Outcome(passed / reps, during / reps)


def _rice_bytes_per_tag(count: int, tag_bits: int, rng: np.random.Generator) -> float:
    """Bytes per tag of `count` tags spread over 2^tag_bits, from the real encoder on one part at that density."""
    sample = min(count, MAX_CHUNK_TAGS * 3 // 4)
    span = max(int(2**tag_bits * sample / count), sample)
    tags = np.unique(rng.integers(0, span, sample, dtype=np.uint64))
    unary, remainders = encode_run(tags, 0, min(rice_bits(len(tags), span), tag_bits))
    return (len(unary) + len(remainders)) / len(tags)


def _chunk_overhead() -> int:
    """Bytes a signed chunk adds to its body (JWS manifest and newline), from a real signed chunk."""
    at = datetime(2026, 11, 29, 11, tzinfo=UTC)
    manifest, body = build_chunks(np.arange(1000, dtype=np.uint64) << np.uint64(40), scope="IR",
                                  chunk_kind=ChunkKind.DELTA, version=123_456, tag_bits=NATION_TAG_BITS,
                                  committed_until=at, issued_at=at)[0]
    return len(sign_snapshot_chunk(manifest, body, generate_signing_key())) - len(body)


def snapshot_bytes(count: int, tag_bits: int, rng: np.random.Generator, overhead: int) -> int:
    parts = max(1, math.ceil(count / (MAX_CHUNK_TAGS * 0.75)))
    return int(count * _rice_bytes_per_tag(count, tag_bits, rng)) + parts * overhead


def measured_false_positives(rng: np.random.Generator, count: int, tag_bits: int, probes: int) -> float:
    tags = np.unique(rng.integers(0, 2**64 - 1, count, dtype=np.uint64, endpoint=True) >> np.uint64(64 - tag_bits))
    voters = VotedFilter.from_sorted(tag_bits, [tags])
    strangers = rng.integers(0, 2**tag_bits, probes, dtype=np.uint64)
    return sum(int(tag) in voters for tag in strangers) / probes


def _mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB" if value >= 1e5 else f"{value / 1e3:,.1f} kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=20261215)
    parser.add_argument("--reps", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rate = _per_minute()
    print("A MODEL, not a measurement of any election: every input below is an assumption.")
    print(f"  {BRANCHES:,} branches, {TERMINALS_PER_BRANCH} terminals each, {DISTRICTS} districts; {ELIGIBLE:,} "
          f"eligible, {VOTES:,} votes over 07:00-02:00, peak {rate.max() / 60:,.0f} slips/s at the busiest hour")
    print(f"  {ATTEMPT_RATE:.1%} of voters try again at another branch after an exponential delay (mean "
          f"{SECOND_DELAY_MEAN:.0f} min), {SAME_DISTRICT:.0%} of them in the same district; the outage starts "
          f"18:00 at a random share of branches, all at once; an offline branch refreshes nothing; the snapshot "
          f"held is its last refresh (random phase) minus {PUBLICATION_LAG:.0f} min of publication; a hit is "
          f"refused by the head of branch; offline slips are known to the center {RECONCILE_LAG:.0f} min after "
          f"the outage ends. Means over {args.reps} seeded days.")
    print("\nSecond attempts that got a slip (every one is found on reconciliation as a double-vote record):")
    print(f"{'outage':>7} {'branches':>8} {'offline slips':>13} {'no snapshot':>12} {'every 60 min':>13} "
          f"{'every 15 min':>13} {'every 5 min':>12} {'15 min, district':>17} {'first in outage':>15}")
    for minutes in (30, 60, 180):
        for share in (0.01, 0.10, 0.50):
            slips = rate[OUTAGE_START:OUTAGE_START + minutes].sum() * share
            cells = [simulate(rng, minutes, share, refresh, True, args.reps) for refresh in (None, 60, 15, 5)]
            district = simulate(rng, minutes, share, 15, False, args.reps)
            print(f"{minutes:>4} min {share:>8.0%} {slips:>13,.0f} " + " ".join(
                f"{cell.passed:>{width},.1f}" for cell, width in zip(cells, (12, 13, 13, 12), strict=True))
                + f" {district.passed:>17,.1f} {cells[3].during:>15,.1f}")
    overhead = _chunk_overhead()
    district_votes = VOTES // DISTRICTS
    largest = int(VOTES * LARGEST_DISTRICT_SHARE)
    print(f"\nSnapshot size (Golomb-Rice chunks from the real encoder; {overhead} bytes of signed manifest per "
          f"chunk of at most {MAX_CHUNK_TAGS:,} voters):")
    print(f"{'scope':>22} {'voters':>11} {'tag bits':>8} {'on the wire':>12} {'terminal RAM':>12} {'false hits':>11}")
    for name, count, bits in (("nation, end of day", VOTES, NATION_TAG_BITS), ("nation, at 18:00",
                              int(rate[:OUTAGE_START].sum()), NATION_TAG_BITS),
                              ("largest district", largest, DISTRICT_TAG_BITS),
                              ("average district", district_votes, DISTRICT_TAG_BITS)):
        ram = 2 * count + 4 * 2 ** (bits - 16)
        print(f"{name:>22} {count:>11,} {bits:>8} {_mb(snapshot_bytes(count, bits, rng, overhead)):>12} "
              f"{_mb(ram):>12} {count / 2**bits:>11.2e}")
    measured = measured_false_positives(rng, district_votes, 24, 100_000)
    print(f"  false hits measured on an average district's filter at 24 bits, 100,000 strangers: {measured:.2e} "
          f"(expected {district_votes / 2**24:.2e})")
    print("\nRefresh traffic at the peak hour (a delta of the voters committed in the interval; the day's total from "
          "every fourth interval, scaled; a broker sends each delta once to each of its terminals):")
    print(f"{'scope':>10} {'interval':>8} {'delta':>10} {'per terminal/day':>16} {'avg broker peak':>15} "
          f"{'largest broker peak':>19}")
    terminals_avg = BRANCHES / DISTRICTS * TERMINALS_PER_BRANCH
    terminals_big = BRANCHES * LARGEST_DISTRICT_SHARE * TERMINALS_PER_BRANCH
    for scope, share, bits in (("nation", 1.0, NATION_TAG_BITS), ("district", 1 / DISTRICTS, DISTRICT_TAG_BITS)):
        for refresh in (60, 15, 5):
            delta = snapshot_bytes(max(int(rate.max() * refresh * share), 1), bits, rng, overhead)
            sampled = range(0, DAY_MINUTES, refresh * 4)
            day = sum(snapshot_bytes(max(int(rate[i:i + refresh].sum() * share), 1), bits, rng, overhead)
                      for i in sampled) * DAY_MINUTES / (refresh * len(sampled))
            big_share = LARGEST_DISTRICT_SHARE if scope == "district" else 1.0
            big_delta = snapshot_bytes(int(rate.max() * refresh * big_share), bits, rng, overhead)
            seconds = refresh * 60
            print(f"{scope:>10} {refresh:>5} min {_mb(delta):>10} {_mb(day):>16} "
                  f"{delta / seconds * terminals_avg * 8 / 1e6:>10,.2f} Mb/s "
                  f"{big_delta / seconds * terminals_big * 8 / 1e6:>14,.1f} Mb/s")
    print(f"  brokers: {terminals_avg:,.0f} terminals on an average district's, {terminals_big:,.0f} on the largest "
          f"({LARGEST_DISTRICT_SHARE:.0%} of branches); every terminal takes every delta of its scope")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
