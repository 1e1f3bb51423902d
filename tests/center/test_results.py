"""The district's results from what the registry holds: the sum of the branches whatever the order or repetition of
the minutes' arrival, with the committed slips, the closing reports and the flags of what does not add up."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as hs

from center.aggregate import Flag
from center.enrolled import EnrolledTerminal
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.results import closing_issued, district_results
from center.results_export import results_document
from center.results_source import read_results
from protocol.messages import DocumentKind, RequestKind
from protocol.minutes import Minutes
from protocol.seal import generate_signing_key
from tests.center import as_terminal
from tests.center.minutes_sample import counted, minutes, signed_bundle
from tests.center.sample import (
    ADULT,
    BRANCH_A,
    BRANCH_A_SECOND,
    BRANCH_B,
    ELECTION_DAY,
    SMALL_ROLL,
    VOTER_KEY,
)

DISTRICT = BRANCH_A.district
BUNDLE = signed_bundle(generate_signing_key())


@contextmanager
def _registry() -> Iterator[Registry]:
    opened = Registry(Path(":memory:"), ELECTION_DAY, voter_key=VOTER_KEY)
    opened.load_roll(SMALL_ROLL)
    try:
        yield opened
    finally:
        opened.close()


def _record(registry: Registry, who: Requester, sent: Minutes, tx_id: str | None = None) -> None:
    with registry.transaction():
        assert registry.record_minutes(tx_id or secrets.token_hex(16), who, sent, b"jws") is not None


def _enrolled(*terminals: Requester) -> dict[str, EnrolledTerminal]:
    return as_terminal.enrolled(terminals)


def _without_arrival(document: dict[str, Any]) -> dict[str, Any]:
    """The export's document without how each set of minutes first came (its moment, its transaction)."""
    return {**document, "minutes": [{k: v for k, v in m.items() if k not in {"received_at", "tx_id"}}
                                    for m in document["minutes"]]}


branch_results = hs.lists(hs.tuples(hs.tuples(*(hs.integers(0, 400),) * 3), hs.integers(0, 30)),
                          min_size=1, max_size=10)


@settings(max_examples=60, deadline=None)
@given(results=branch_results, seed=hs.integers(0, 2**32 - 1))
def test_the_stored_aggregate_is_the_sum_of_the_branches_in_any_order_or_repetition_of_arrival(
        results: list[tuple[tuple[int, int, int], int]], seed: int) -> None:
    rng = random.Random(seed)
    terminals = [Requester(f"t-{n}", f"b-{n:02d}", DISTRICT) for n in range(len(results))]
    sent = [(who, minutes(counted(votes, invalid), bundle_hash=BUNDLE.hash), secrets.token_hex(16))
            for who, (votes, invalid) in zip(terminals, results, strict=True)]
    arrivals = sent + [(who, m, tx if rng.random() < 0.5 else secrets.token_hex(16))
                       for who, m, tx in rng.choices(sent, k=rng.randint(0, 2 * len(sent)))]
    rng.shuffle(arrivals)
    with _registry() as shuffled, _registry() as once:
        for who, m, tx in arrivals:
            _record(shuffled, who, m, tx)
        for who, m, tx in sent:
            _record(once, who, m, tx)
        got = read_results(shuffled, DISTRICT, BUNDLE, _enrolled(*terminals)).results
        expected = read_results(once, DISTRICT, BUNDLE, _enrolled(*terminals)).results
    assert got.aggregate == expected.aggregate, "the order or repetition of arrival changed the aggregate"
    assert _without_arrival(results_document(got)) == _without_arrival(results_document(expected))
    pres = got.aggregate.totals[0]
    assert dict(pres.votes) == {code: sum(v[i] for v, _ in results) for i, code in enumerate(("P1", "P2", "P3"))}
    assert pres.invalid == sum(invalid for _, invalid in results)
    assert pres.in_box == sum(sum(v) + i for v, i in results)
    assert got.aggregate.counted == tuple(who.branch for who in terminals)
    assert got.aggregate.missing == () and got.aggregate.conflicts == ()


def test_the_results_take_the_committed_slips_and_closing_reports_and_name_the_missing() -> None:
    with _registry() as registry:
        reserved = registry.reserve(ReserveClaim("a" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_A))
        assert isinstance(reserved, Reserved)
        registry.commit("a" * 32, BRANCH_A, reserved.inquiry_code, 0)
        registry.record_poll_event("c" * 32, BRANCH_A, RequestKind.CLOSE, '{"counts": {"issued": 2}}')
        _record(registry, BRANCH_A, minutes(counted((1, 0, 0), 0), slips=1, bundle_hash=BUNDLE.hash))
        got = read_results(registry, DISTRICT, BUNDLE, _enrolled(BRANCH_A, BRANCH_A_SECOND, BRANCH_B)).results
    assert got.branches == (BRANCH_A.branch, BRANCH_B.branch)
    assert got.committed == ((BRANCH_A.branch, 1), (BRANCH_B.branch, 0))
    assert got.closing == ((BRANCH_A.terminal, 2),)
    assert (got.aggregate.counted, got.aggregate.missing) == ((BRANCH_A.branch,), (BRANCH_B.branch,))
    assert got.aggregate.totals[0].committed_slips == 1
    flags = {(f.branch, f.flag) for f in got.aggregate.flags}
    assert flags == {(BRANCH_A.branch, Flag.DIFFERS_FROM_CLOSING)}, got.aggregate.flags


def test_minutes_of_another_bundle_or_before_the_closing_are_flagged_and_still_counted() -> None:
    with _registry() as registry:
        _record(registry, BRANCH_A, minutes(bundle_hash="cd" * 32))
        _record(registry, BRANCH_B, minutes(bundle_hash=BUNDLE.hash))
        got = read_results(registry, DISTRICT, BUNDLE, _enrolled(BRANCH_A, BRANCH_B)).results
    flags = {(f.branch, f.flag) for f in got.aggregate.flags if f.flag in {Flag.OTHER_BUNDLE, Flag.BEFORE_CLOSING}}
    assert flags == {(BRANCH_A.branch, Flag.OTHER_BUNDLE), (BRANCH_A.branch, Flag.BEFORE_CLOSING),
                     (BRANCH_B.branch, Flag.BEFORE_CLOSING)}
    assert got.aggregate.counted == (BRANCH_A.branch, BRANCH_B.branch), "flagged, never dropped"


def test_training_minutes_never_reach_the_results() -> None:
    with _registry() as registry:
        _record(registry, BRANCH_A, minutes(counted((300, 0, 0)), training=True))
        got = read_results(registry, DISTRICT, BUNDLE, _enrolled(BRANCH_A)).results
    assert got.received == () and got.aggregate.missing == (BRANCH_A.branch,)
    assert dict(got.aggregate.totals[0].votes) == {"P1": 0, "P2": 0, "P3": 0}


def test_the_results_do_not_depend_on_the_order_they_are_given() -> None:
    with _registry() as registry:
        _record(registry, BRANCH_A, minutes(counted((5, 6, 7))))
        _record(registry, BRANCH_A_SECOND, minutes(counted((7, 6, 5))))
        _record(registry, BRANCH_B, minutes(counted((1, 1, 1))))
        got = read_results(registry, DISTRICT, BUNDLE, _enrolled(BRANCH_A, BRANCH_A_SECOND, BRANCH_B)).results
    again = district_results(DISTRICT, BUNDLE.bundle, BUNDLE.hash, reversed(got.branches), dict(got.committed),
                             dict(got.closing), reversed(got.received))
    assert again == got
    assert got.aggregate.conflicts == (BRANCH_A.branch,)


def test_a_closing_report_reads_its_issued_count_or_nothing() -> None:
    assert closing_issued('{"counts": {"issued": 12, "voided": 1}}') == 12
    for detail in ("", "[]", '{"counts": {}}', '{"counts": {"issued": -1}}', '{"counts": {"issued": "12"}}',
                   '{"counts": {"issued": true}}'):
        assert closing_issued(detail) is None, detail
