"""Fuzz targets for the minutes: the signed election bundle, a branch's figures and minutes, the counting instructions."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from center.aggregate import BranchMinutes, aggregate
from firmware_app.screen.minutes_form import read_minutes_form
from harness.election import screen_form
from harness.fuzz import FuzzTarget, mutate
from protocol.codec import (
    ProtocolError,
    decode_minutes,
    decode_minutes_figures,
    encode_minutes,
    encode_minutes_figures,
    minutes_hash,
)
from protocol.messages import CountingInstructions
from protocol.minutes import (
    Candidate,
    CandidateVotes,
    CountKind,
    Election,
    ElectionBundle,
    ElectionCount,
    Minutes,
    MinutesFigures,
    check_minutes,
    conformity,
)
from protocol.national_code import to_persian_digits
from protocol.seal import (
    generate_signing_key,
    open_counting_instructions,
    open_election_bundle,
    public_part,
    sign_counting_instructions,
    sign_election_bundle,
)

_JSON = b'{}[]",:0123456789-.eE truefalsenull\\u'


def _bundle(rng: random.Random) -> ElectionBundle:
    elections = []
    for number in range(rng.randint(1, 3)):
        kind = rng.choice(list(CountKind))
        seats = 1 if kind is CountKind.ONE_NAME else rng.randint(2, 5)
        candidates = tuple(Candidate(f"C{number}-{n}", f"نامزد {n}") for n in range(rng.randint(1, 6)))
        elections.append(Election(f"E{number}", "انتخابات", kind, seats, candidates))
    return ElectionBundle("D01", tuple(elections))


def _figures(rng: random.Random, bundle: ElectionBundle) -> MinutesFigures:
    counts = []
    for election in bundle.elections:
        votes = tuple(CandidateVotes(c.code, rng.randint(0, 300)) for c in election.candidates)
        received, used, spoiled, unused, in_box, invalid = (rng.randint(0, 900) for _ in range(6))
        counts.append(ElectionCount(election.code, received, used, spoiled, unused, in_box, invalid, votes))
    return MinutesFigures(tuple(f"S-{rng.randint(1, 9999)}" for _ in range(rng.randint(1, 3))), tuple(counts))


def _typed_form(rng: random.Random, figures: MinutesFigures) -> bytes:
    """The page's form for these figures, each number in Persian or ASCII digits."""
    def typed(value: int) -> str:
        return to_persian_digits(str(value)) if rng.random() < 0.5 else str(value)
    return json.dumps(screen_form(figures, typed), ensure_ascii=False).encode()


def targets() -> Sequence[FuzzTarget]:
    district = generate_signing_key()
    public = public_part(district)
    seeds = random.Random(20261202)
    bundles = [_bundle(seeds) for _ in range(8)]
    signed = [sign_election_bundle(bundle, district) for bundle in bundles]
    drawn = [_figures(seeds, bundle) for bundle in bundles]
    figures = [encode_minutes_figures(one) for one in drawn]
    at = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)
    minutes = [encode_minutes(Minutes("0" * 64, one, ("operator", "head"), 400, None,
                                      check_minutes(one, bundle, 400, None), at, False))
               for one, bundle in zip(drawn, bundles, strict=True)]
    instructions = [sign_counting_instructions(CountingInstructions("D01", "شیوه‌نامه شمارش",
                                                                    "آرا را دو بار بشمارید. " * n, at), district)
                    for n in (1, 40)]

    def make_bundle(rng: random.Random) -> bytes:
        return mutate(rng, rng.choice(signed), b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")

    def feed_bundle(data: bytes) -> object:
        return open_election_bundle(data, public, "D01")

    def make_figures(rng: random.Random) -> bytes:
        return mutate(rng, rng.choice(figures), _JSON)

    def feed_figures(data: bytes) -> object:
        parsed = decode_minutes_figures(data)
        if isinstance(parsed, ProtocolError):
            return parsed
        bundle = next((candidate for candidate in bundles if conformity(parsed, candidate) is None), None)
        if bundle is None:
            return conformity(parsed, bundles[0])
        received = BranchMinutes("B01", "T-0001", "h", parsed, 400, 400, 400)
        return check_minutes(parsed, bundle, 400, 400), aggregate(bundle, ["B01"], [received,
                                                                               dataclasses.replace(received)])

    def make_minutes(rng: random.Random) -> bytes:
        return mutate(rng, rng.choice(minutes), _JSON)

    def feed_minutes(data: bytes) -> object:
        parsed = decode_minutes(data)
        return parsed if isinstance(parsed, ProtocolError) else minutes_hash(parsed)

    forms = [_typed_form(seeds, one) for one in drawn]

    def make_form(rng: random.Random) -> bytes:
        return mutate(rng, rng.choice(forms), _JSON + "۰۱۲۳۴۵۶۷۸۹٠١٢".encode())

    def feed_form(data: bytes) -> object:
        try:
            form = json.loads(data)
        except (ValueError, RecursionError) as refused:  # the screen's app answers 400 to what is not JSON
            return refused
        return read_minutes_form(form)

    def make_instructions(rng: random.Random) -> bytes:
        return mutate(rng, rng.choice(instructions), b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")

    def feed_instructions(data: bytes) -> object:
        return open_counting_instructions(data, public, "D01")

    return [FuzzTarget("minutes.election_bundle", make_bundle, feed_bundle),
            FuzzTarget("minutes.figures", make_figures, feed_figures),
            FuzzTarget("minutes.document", make_minutes, feed_minutes),
            FuzzTarget("minutes.screen_form", make_form, feed_form),
            FuzzTarget("minutes.counting_instructions", make_instructions, feed_instructions)]
