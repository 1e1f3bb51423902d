"""The center behind a real mosquitto: whole voters, duplicates across branches, retries, shared workers."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.registry import Registry, Requester, ReservationState
from center.service import CenterService
from harness.broker import Broker
from protocol.messages import (
    CommitAnswer,
    CommitOutcome,
    Request,
    ReserveAnswer,
    ReserveOutcome,
    VoidAnswer,
    VoidOutcome,
)
from protocol.seal import public_part
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.sample import ADULT, ADULT_TWO, ELECTION_DAY, SMALL_ROLL, UNLISTED, VOTER_KEY

pytestmark = pytest.mark.real_peer
ENROLLED_BRANCHES = {"t-1": "branch-1", "t-9": "branch-9"}

CenterFactory = Callable[..., CenterService]


@pytest.fixture
def district(tls_district: TlsDistrict) -> str:
    return tls_district.district


@pytest.fixture
def broker(tls_district: TlsDistrict) -> Broker:
    """This test's own mutual-TLS mosquitto (its district's CA, ACL and center listener)."""
    return tls_district.broker


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite"
    registry = Registry(path, ELECTION_DAY, voter_key=VOTER_KEY)
    registry.load_roll(SMALL_ROLL)
    registry.close()
    return path


@pytest.fixture
def start_center(
    tls_district: TlsDistrict, database: Path, signing_key: OKPKey, sealing_key: OKPKey
) -> Iterator[CenterFactory]:
    started: list[CenterService] = []

    def start(instance: str = "center-1", workers: int = 1) -> CenterService:
        config = tls_district.center_config(database, instance, workers)
        enrolled = as_terminal.enrolled(Requester(terminal, branch, tls_district.district)
                                        for terminal, branch in ENROLLED_BRANCHES.items())
        service = CenterService(config, signing_key, sealing_key, enrolled=enrolled)
        service.start()
        started.append(service)
        assert service.wait_connected(10), "the center could not reach mosquitto"
        return service

    yield start
    for service in started:
        service.stop()


def _terminal(place: TlsDistrict, name: str, branch: str, signing_key: OKPKey) -> ProbeTerminal:
    """A test client with a certificate for `name`, on the terminals' listener."""
    who = Requester(name, branch, place.district)
    return ProbeTerminal(place.broker.address, who, public_part(signing_key), place.terminal_tls(name))


def _reserve_answer(probe: ProbeTerminal, request: Request) -> ReserveAnswer:
    answer = probe.ask(request)
    assert answer is not None, "the center did not answer"
    assert isinstance(answer.body, ReserveAnswer)
    return answer.body


def test_a_whole_voter_reserve_commit(
    tls_district: TlsDistrict, district: str, start_center: CenterFactory, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    start_center()
    with _terminal(tls_district, "t-1", "branch-1", signing_key) as probe:
        reserve = as_terminal.reserve(probe.who, ADULT, public_part(sealing_key))
        body = _reserve_answer(probe, reserve)
        assert body.outcome is ReserveOutcome.ELIGIBLE and body.inquiry_code is not None
        committed = probe.ask(as_terminal.commit(probe.who, reserve.header.tx_id, body.inquiry_code))
        assert committed is not None and committed.body == CommitAnswer(CommitOutcome.COMMITTED)


def test_a_voter_trying_again_at_another_branch_is_refused_as_duplicate(
    tls_district: TlsDistrict, district: str, start_center: CenterFactory, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    start_center()
    with (
        _terminal(tls_district, "t-1", "branch-1", signing_key) as first,
        _terminal(tls_district, "t-9", "branch-9", signing_key) as second,
    ):
        assert _reserve_answer(first, as_terminal.reserve(first.who, ADULT, public_part(sealing_key))).outcome is (
            ReserveOutcome.ELIGIBLE
        )
        again = _reserve_answer(second, as_terminal.reserve(second.who, ADULT, public_part(sealing_key)))
        assert (again.outcome, again.first_branch) == (ReserveOutcome.DUPLICATE, "branch-1")


def test_a_retry_after_a_lost_answer_gets_the_same_inquiry_code(
    tls_district: TlsDistrict, district: str, database: Path, start_center: CenterFactory,
    signing_key: OKPKey, sealing_key: OKPKey,
) -> None:
    start_center()
    with _terminal(tls_district, "t-1", "branch-1", signing_key) as probe:
        lost = as_terminal.reserve(probe.who, ADULT_TWO, public_part(sealing_key))
        probe.send(lost)
        registry = Registry(database, ELECTION_DAY, voter_key=VOTER_KEY)
        try:
            deadline = time.monotonic() + 10
            while not registry.reservations() and time.monotonic() < deadline:
                time.sleep(0.05)
            [held] = registry.reservations()
        finally:
            registry.close()
        retry = as_terminal.reserve(probe.who, ADULT_TWO, public_part(sealing_key), tx_id=lost.header.tx_id)
        body = _reserve_answer(probe, retry)
        assert (body.outcome, body.inquiry_code) == (ReserveOutcome.ELIGIBLE, held.inquiry_code)


def test_a_void_frees_the_voter_for_another_branch(
    tls_district: TlsDistrict, district: str, start_center: CenterFactory, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    start_center()
    with (
        _terminal(tls_district, "t-1", "branch-1", signing_key) as first,
        _terminal(tls_district, "t-9", "branch-9", signing_key) as second,
    ):
        reserve = as_terminal.reserve(first.who, ADULT, public_part(sealing_key))
        _reserve_answer(first, reserve)
        voided = first.ask(as_terminal.void(first.who, reserve.header.tx_id))
        assert voided is not None and voided.body == VoidAnswer(VoidOutcome.VOIDED)
        body = _reserve_answer(second, as_terminal.reserve(second.who, ADULT, public_part(sealing_key)))
        assert body.outcome is ReserveOutcome.ELIGIBLE


def test_with_no_center_there_is_no_answer(tls_district: TlsDistrict, district: str, signing_key: OKPKey, sealing_key: OKPKey) -> None:
    with _terminal(tls_district, "t-1", "branch-1", signing_key) as probe:
        assert probe.ask(as_terminal.reserve(probe.who, ADULT, public_part(sealing_key)), deadline_seconds=1.5) is None


def test_several_center_processes_share_the_requests_and_answer_each_once(
    tls_district: TlsDistrict, district: str, database: Path, start_center: CenterFactory,
    signing_key: OKPKey, sealing_key: OKPKey,
) -> None:
    centers = [start_center("center-1", workers=2), start_center("center-2", workers=1)]
    requests = 24
    with _terminal(tls_district, "t-1", "branch-1", signing_key) as probe:
        asked = [as_terminal.reserve(probe.who, UNLISTED, public_part(sealing_key)) for _ in range(requests)]
        for request in asked:
            probe.send(request)
        for request in asked:
            assert probe.wait(request, 10) is not None, "a request was never answered"
        fence = as_terminal.reserve(probe.who, UNLISTED, public_part(sealing_key))
        probe.send(fence)
        assert probe.wait(fence, 10) is not None
    per_request = Counter(answer.header.request_id for answer in probe.received)
    handled = [worker.answered for center in centers for worker in center.status().workers]
    assert set(per_request.values()) == {1}, "some request was answered more than once"
    assert sum(handled) == requests + 1, f"workers handled {handled}"
    assert all(count > 0 for count in handled), f"a worker got no share of the requests: {handled}"
    registry = Registry(database, ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        assert all(r.state is ReservationState.RESERVED for r in registry.reservations())
    finally:
        registry.close()




def test_a_stopped_center_worker_costs_a_retry_never_an_answer(
    tls_district: TlsDistrict, district: str, start_center: CenterFactory, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    start_center("center-1")
    start_center("center-2").stop()
    with _terminal(tls_district, "t-1", "branch-1", signing_key) as probe:
        asked = [as_terminal.reserve(probe.who, UNLISTED, public_part(sealing_key)) for _ in range(6)]
        unanswered = [request for request in asked if probe.ask(request) is None]
    assert unanswered == [], f"{len(unanswered)} of {len(asked)} requests were never answered"
