"""Several center worker processes behind the shared subscription: all answer, a killed one comes back, and every
request is answered once in effect (a retry gets the same answer, whichever process takes it)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.audit import check_registry
from center.registry import Registry, Requester, ReservationState
from center.storage import RegistryLocation, open_database
from center.synthetic_roll import RollShares, generate_roll
from center.worker_processes import WorkerProcesses
from protocol.messages import Answer, ReserveAnswer, ReserveOutcome
from protocol.seal import public_part
from tests.center import as_terminal
from tests.center.conftest import FreshLocation, TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.sample import ELECTION_DAY, VOTER_KEY

pytestmark = pytest.mark.real_peer
ROLL = generate_roll(30, 31, ELECTION_DAY, RollShares(0, 0, 0))


def _loaded(location: RegistryLocation) -> RegistryLocation:
    database = open_database(location)
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        assert registry.load_roll(ROLL) == len(ROLL)
    finally:
        registry.close()
        database.close()
    return location


def _processes(place: TlsDistrict, location: RegistryLocation, signing_key: OKPKey, sealing_key: OKPKey,
               who: list[Requester], processes: int = 2) -> WorkerProcesses:
    for terminal in who:
        as_terminal.enrol(place.folder / "ca", terminal)
    config = replace(place.center_config(place.folder / "unused.sqlite"), database=location,
                     enrolment_ca=place.folder / "ca", worker_processes=processes)
    return WorkerProcesses(config, signing_key.as_pem(private=True), sealing_key.as_pem(private=True), VOTER_KEY)


def _reserved(answer: Answer | None) -> str:
    assert answer is not None, "a reserve was never answered"
    assert isinstance(answer.body, ReserveAnswer) and answer.body.outcome is ReserveOutcome.ELIGIBLE, answer.body
    assert answer.body.inquiry_code is not None
    return answer.body.inquiry_code


def _until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_every_worker_process_answers_through_the_shared_subscription(
    tls_district: TlsDistrict, tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    who = Requester("t-1", "branch-1", tls_district.district)
    location = _loaded(tmp_path / "registry.sqlite")
    with _processes(tls_district, location, signing_key, sealing_key, [who]) as workers, \
            ProbeTerminal(tls_district.broker.address, who, public_part(signing_key),
                          tls_district.terminal_tls(who.terminal)) as probe:
        assert workers.wait_connected(30), "the worker processes did not connect"
        assert len(set(workers.pids()) | {os.getpid()}) == 3, "two worker processes of their own"
        for record in ROLL[:20]:
            _reserved(probe.ask(as_terminal.reserve(who, record.national_code, public_part(sealing_key)), 20))
        assert _until(lambda: workers.status().answered == 20, 5), workers.status()
        by_process = workers.status().answered_by_process
        pids = workers.pids()
    assert sum(by_process) == 20
    assert all(answered > 0 for answered in by_process), f"a worker process answered nothing: {by_process}"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_killed_worker_process_is_started_again_and_logged(
    tls_district: TlsDistrict, tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    who = Requester("t-1", "branch-1", tls_district.district)
    location = _loaded(tmp_path / "registry.sqlite")
    with _processes(tls_district, location, signing_key, sealing_key, [who]) as workers, \
            ProbeTerminal(tls_district.broker.address, who, public_part(signing_key),
                          tls_district.terminal_tls(who.terminal)) as probe:
        assert workers.wait_connected(30)
        victim, survivor = workers.pids()
        os.kill(victim, signal.SIGKILL)
        assert _until(lambda: workers.status().restarts == 1 and len(workers.pids()) == 2, 30), workers.status()
        assert workers.wait_connected(30), "the worker process started again did not connect"
        assert victim not in workers.pids() and survivor in workers.pids()
        assert workers.alive()
        for record in ROLL[:10]:
            _reserved(probe.ask(as_terminal.reserve(who, record.national_code, public_part(sealing_key)), 20))
        assert _until(lambda: all(n > 0 for n in workers.status().answered_by_process), 5), \
            f"the restarted worker process does not answer: {workers.status().answered_by_process}"
    assert any("ended with exit code -9" in r.getMessage() and "starting it again" in r.getMessage()
               for r in caplog.records), "the restart was not logged"
    assert workers.status().running == 0, "a worker process outlived stop()"


def test_requests_in_flight_while_a_worker_process_dies_are_answered_once_in_effect(
    tls_district: TlsDistrict, fresh_location: FreshLocation, signing_key: OKPKey, sealing_key: OKPKey
) -> None:
    who = [Requester(f"t-{i}", f"branch-{i}", tls_district.district) for i in (1, 2)]
    location = _loaded(fresh_location())
    sealing = public_part(sealing_key)
    first = [as_terminal.reserve(who[i % 2], record.national_code, sealing) for i, record in enumerate(ROLL)]
    with _processes(tls_district, location, signing_key, sealing_key, who) as workers:
        assert workers.wait_connected(30)
        probes = [ProbeTerminal(tls_district.broker.address, w, public_part(signing_key),
                                tls_district.terminal_tls(w.terminal)) for w in who]
        for probe in probes:
            probe.__enter__()
        try:
            for i, request in enumerate(first):
                probes[i % 2].send(request)
                if i == len(first) // 2:
                    os.kill(workers.pids()[0], signal.SIGKILL)
            codes = {r.header.tx_id: _reserved(probes[i % 2].ask(r, 30)) for i, r in enumerate(first)}
            again = [as_terminal.reserve(who[i % 2], record.national_code, sealing, tx_id=r.header.tx_id)
                     for i, (record, r) in enumerate(zip(ROLL, first, strict=True))]
            retried = {r.header.tx_id: _reserved(probes[i % 2].ask(r, 30)) for i, r in enumerate(again)}
            resent = {r.header.tx_id: _reserved(probes[i % 2].ask(r, 30)) for i, r in enumerate(first)}
            stolen = probes[1].ask(as_terminal.reserve(who[1], ROLL[0].national_code, sealing), 30)
        finally:
            for probe in probes:
                probe.__exit__(None, None, None)
    assert retried == codes, "a retry with a new request id got another inquiry code"
    assert resent == codes, "the same request sent again got another answer"
    assert stolen is not None and isinstance(stolen.body, ReserveAnswer)
    assert stolen.body.outcome is ReserveOutcome.DUPLICATE, "a second terminal was given a reserved voter"
    database = open_database(location)
    registry = Registry(database.session(), ELECTION_DAY, voter_key=VOTER_KEY)
    try:
        rows = registry.reservations()
    finally:
        registry.close()
        database.close()
    assert {r.tx_id: r.inquiry_code for r in rows} == codes, "the registry holds other reservations than answered"
    assert all(r.state is ReservationState.RESERVED for r in rows)
    assert check_registry(rows, polls_closed=False) == ()
