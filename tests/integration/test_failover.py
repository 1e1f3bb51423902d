"""Failover under load: the national registry's primary is killed while terminals reserve and commit through the
center's responder; after Patroni promotes the synchronous standby nothing acknowledged is lost and no retry gets
a second inquiry code."""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from joserfc.jwk import OKPKey

from center.rate_limit import UNLIMITED
from center.registry import Registry, Requester, ReservationState
from center.responder import Dropped, Responder
from center.storage import PostgresSettings, RegistryDatabase, RegistryUnavailableError, open_database
from center.synthetic_roll import RollShares, generate_roll
from harness.patroni import PatroniCluster
from protocol.messages import Answer, CommitAnswer, CommitOutcome, ReserveAnswer, ReserveOutcome
from protocol.national_code import NationalCode
from protocol.seal import generate_signing_key, public_part
from tests.center import as_terminal
from tests.center.sample import ELECTION_DAY, SEALING_KEY, VOTER_KEY

pytestmark = [pytest.mark.real_peer, pytest.mark.slow]
TERMINALS = 6
VOTERS = 1_200
"""More than the terminals get through in the run: each voter is asked for by two terminals (one is refused as a
duplicate), so the one-live-reservation rule is tried across the failover too."""
ANSWERED_BEFORE_KILL = 60
ANSWERED_AFTER_PROMOTION = 5
"""Reserves each terminal must get answered after the promotion before the load stops."""
RETRY_PAUSE_S = 0.05
_WAIT_S = 240.0


@dataclass(frozen=True)
class Asked:
    """One reserve a terminal sent (and re-sent until answered), and the commit it sent if it was ELIGIBLE."""

    who: Requester
    tx_id: str
    voter: NationalCode
    payload: bytes
    answer: ReserveAnswer
    unavailable: int
    """How often the center left it or its commit unanswered (the registry was unavailable) before answering."""
    committed: bool


@dataclass
class Load:
    """What the terminals did: every answered reserve, and how many each had answered at given moments."""

    asked: list[Asked] = field(default_factory=list)
    answered: collections.Counter[str] = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)


@dataclass(frozen=True)
class Center:
    database: RegistryDatabase
    signing_key: OKPKey
    terminals: tuple[Requester, ...]

    def responder(self) -> Responder:
        registry = Registry(self.database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
        return Responder(registry, self.terminals[0].district, self.signing_key, SEALING_KEY,
                         enrolled=as_terminal.enrolled(self.terminals), rate_limit=UNLIMITED)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PatroniCluster]:
    with PatroniCluster(nodes=2) as started:
        yield started


@pytest.fixture(scope="module")
def center(cluster: PatroniCluster) -> Iterator[Center]:
    """One center (a responder per terminal thread, one pool) on the HA registry, given every node."""
    cluster.create_database("nation")
    settings = PostgresSettings(cluster.login("nation"), TERMINALS + 1, cluster.hosts)
    database = open_database(settings)
    loader = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    assert loader.load_roll(generate_roll(VOTERS, 77, ELECTION_DAY, RollShares(0, 0, 0))) == VOTERS
    terminals = tuple(Requester(f"T-{n:02d}", f"B-{n:02d}", "D01") for n in range(TERMINALS))
    yield Center(database, generate_signing_key(), terminals)
    database.close()


def _send(responder: Responder, who: Requester, payload: bytes, load: Load) -> tuple[Answer, int]:
    """Send until answered, as a terminal re-sends the same signed request when no answer comes; the answer and
    how many times it went unanswered."""
    unavailable = 0
    deadline = time.monotonic() + _WAIT_S
    while True:
        try:
            outcome = responder.handle(as_terminal.topic_of(who), payload)
        except RegistryUnavailableError:
            unavailable += 1
            assert time.monotonic() < deadline, f"the registry stayed unavailable ({unavailable} tries)"
            time.sleep(RETRY_PAUSE_S)
            continue
        assert not isinstance(outcome, Dropped), outcome
        with load.lock:
            load.answered[who.terminal] += 1
        return outcome.answer, unavailable


def _terminal(center: Center, index: int, voters: list[NationalCode], load: Load) -> None:
    """One terminal: reserve each of its voters; commit each ELIGIBLE one (a printed slip)."""
    who = center.terminals[index]
    responder = center.responder()
    sealing = public_part(SEALING_KEY)
    try:
        for voter in voters:
            if load.stop.is_set():
                return
            request = as_terminal.reserve(who, voter, sealing)
            payload = as_terminal.payload(request)
            answer, unavailable = _send(responder, who, payload, load)
            assert isinstance(answer.body, ReserveAnswer), answer
            committed = False
            if answer.body.outcome is ReserveOutcome.ELIGIBLE:
                assert answer.body.inquiry_code is not None
                commit = as_terminal.payload(as_terminal.commit(who, request.header.tx_id, answer.body.inquiry_code))
                done, unanswered = _send(responder, who, commit, load)
                unavailable += unanswered
                assert isinstance(done.body, CommitAnswer) and done.body.outcome is CommitOutcome.COMMITTED, done
                committed = True
            with load.lock:
                load.asked.append(Asked(who, request.header.tx_id, voter, payload, answer.body, unavailable,
                                        committed))
    except BaseException as exc:
        load.errors.append(exc)
        raise


def _voters_of(index: int, voters: list[NationalCode]) -> list[NationalCode]:
    """Terminal `index` asks for the voters of its own share and of the next terminal's, interleaved: every voter
    is asked for by two terminals, at about the same time."""
    mine = voters[index::TERMINALS]
    neighbours = voters[(index - 1) % TERMINALS::TERMINALS]
    return [voter for pair in itertools.zip_longest(mine, neighbours) for voter in pair if voter is not None]


def _wait(condition: Callable[[], bool], load: Load, what: str) -> None:
    deadline = time.monotonic() + _WAIT_S
    while not condition():
        assert not load.errors, load.errors
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_killing_the_primary_under_load_loses_no_acknowledged_reservation_and_no_retry_gets_a_second_code(
    cluster: PatroniCluster, center: Center
) -> None:
    standby = cluster.wait_for_sync_standby()
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        row = conn.execute("SELECT application_name FROM pg_stat_replication WHERE sync_state = 'sync'").fetchone()
    assert row == (standby,), "the standby must be synchronous before the primary dies"
    voters = [record.national_code for record in generate_roll(VOTERS, 77, ELECTION_DAY, RollShares(0, 0, 0))]
    load = Load()
    threads = [threading.Thread(target=_terminal, args=(center, i, _voters_of(i, voters), load), daemon=True)
               for i in range(TERMINALS)]
    for thread in threads:
        thread.start()
    try:
        _wait(lambda: sum(load.answered.values()) >= ANSWERED_BEFORE_KILL, load, "the load to start")
        killed = cluster.kill_primary()
        promoted = cluster.wait_for_promotion(killed)
        assert promoted == standby, "Patroni must promote the synchronous standby"
        with load.lock:
            at_promotion = collections.Counter(load.answered)
        _wait(lambda: all(load.answered[who.terminal] - at_promotion[who.terminal] >= ANSWERED_AFTER_PROMOTION
                          for who in center.terminals), load, "every terminal to be answered after the promotion")
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(_WAIT_S)
    assert not load.errors, load.errors
    assert any(asked.unavailable for asked in load.asked), "no request was in flight while the primary was down"
    _check_invariants(center, load)


def _check_invariants(center: Center, load: Load) -> None:
    registry = Registry(center.database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    rows = {row.tx_id: row for row in registry.reservations()}
    live = collections.Counter(row.voter for row in rows.values() if row.state is not ReservationState.VOIDED)
    assert [voter for voter, count in live.items() if count > 1] == [], "a voter has two live reservations"
    codes_of_voter: dict[str, set[str]] = collections.defaultdict(set)
    for asked in load.asked:
        if asked.answer.outcome is not ReserveOutcome.ELIGIBLE:
            assert asked.answer.outcome is ReserveOutcome.DUPLICATE, asked
            assert live[registry.voter_of(asked.voter)] == 1, f"{asked.tx_id}: DUPLICATE of nobody's reservation"
            continue
        row = rows.get(asked.tx_id)
        assert row is not None, f"acknowledged reservation {asked.tx_id} lost in the failover"
        assert (row.inquiry_code, row.voter) == (asked.answer.inquiry_code, registry.voter_of(asked.voter)), row
        assert row.state is ReservationState.COMMITTED, f"acknowledged commit of {asked.tx_id} lost: {row.state}"
        codes_of_voter[row.voter or ""].add(row.inquiry_code or "")
    assert [voter for voter, codes in codes_of_voter.items() if len(codes) > 1] == [], \
        "a voter was handed two inquiry codes"
    responder = center.responder()
    for asked in load.asked:
        again, unavailable = _send(responder, asked.who, asked.payload, load)
        assert (again.body, unavailable) == (asked.answer, 0), "the same request again must get the same answer"
        fresh = as_terminal.payload(as_terminal.reserve(asked.who, asked.voter, public_part(SEALING_KEY),
                                                        asked.tx_id))
        retried, _ = _send(responder, asked.who, fresh, load)
        assert isinstance(retried.body, ReserveAnswer)
        assert (retried.body.outcome, retried.body.inquiry_code) == (asked.answer.outcome, asked.answer.inquiry_code), \
            f"a retry of {asked.tx_id} with the same transaction id got another answer"
