"""A small load run (30 terminals enrolled through the real path, a few voters each, two worker processes) on each
engine: what the load generator reports is what the registry holds afterwards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from center.audit import check_registry
from center.registry import Registry, ReservationState
from center.storage import open_database
from center.synthetic_roll import generate_roll
from center.worker_cpu import Handled
from harness.loadgen.district import LoadDistrict, Pace
from harness.loadgen.plan import Mix, Visit, deal
from tests.center.conftest import FreshLocation
from tests.center.sample import ELECTION_DAY

pytestmark = pytest.mark.real_peer
TERMINALS = 30
VISITS = 150
MIX = Mix(voided=0.1, retried=0.1, duplicate=0.1, ineligible=0.1)
PACE = Pace(rate=None, seconds=300, drivers=2, answer_timeout=20, tries=3)
"""No time is asserted: the bounds are only there so that a broken run ends."""


def test_a_load_run_reports_what_the_registry_holds(tmp_path: Path, fresh_location: FreshLocation) -> None:
    roll = generate_roll(300, 12, ELECTION_DAY)
    dealt = deal(roll, ELECTION_DAY, TERMINALS, VISITS, MIX, seed=3)
    planned = Counter(step.visit for steps in dealt.steps for step in steps)
    location = fresh_location()
    with LoadDistrict(tmp_path / "district", TERMINALS, ELECTION_DAY, max_worker_processes=2) as district:
        district.load_roll(location, roll)
        figures = district.run(location, 2, dealt, PACE)
        database = open_database(location)
        registry = Registry(database.session(), ELECTION_DAY, voter_key=district.voter_key)
        try:
            rows = registry.reservations()
        finally:
            registry.close()
            database.close()
    report = figures.report
    assert report.connected == TERMINALS, "every simulated terminal connects with its own certificate"
    assert not report.errors, f"the load run found errors: {report.errors}"
    assert report.count("abandoned") == 0 and report.count("visits") + report.count("duplicates_skipped") == VISITS

    committed = {r.tx_id: r.inquiry_code for r in rows if r.state is ReservationState.COMMITTED}
    voided = {r.tx_id for r in rows if r.state is ReservationState.VOIDED}
    assert committed == report.issued, "the registry's issued slips are not the ones the terminals were answered"
    assert voided == report.voided_tx
    assert not [r for r in rows if r.state is ReservationState.RESERVED], "a reservation was left open"
    assert len(rows) == report.count("eligible") == report.count("committed") + report.count("voided")
    assert check_registry(rows, polls_closed=True) == (), "a voter holds two live reservations, or a code repeats"

    assert report.count("committed") == planned[Visit.ISSUED] + planned[Visit.RETRIED]
    assert report.count("voided") == planned[Visit.VOIDED]
    assert report.count("ineligible_refused") == planned[Visit.INELIGIBLE]
    assert report.count("retries_same_code") == planned[Visit.RETRIED], "a retry of a transaction got another code"
    assert report.count("duplicates_refused") + report.count("duplicates_skipped") == planned[Visit.DUPLICATE]
    assert report.count("duplicates_refused") > 0, "no second terminal asked for an issued voter"

    assert figures.center.restarts == 0
    answered, reserves = figures.center.answered, figures.center_cpu.count(Handled.RESERVE)
    assert answered >= report.count("requests_answered") and reserves >= report.count("reserves_answered")
    if not report.no_answers:  # no try was sent again, so the center answered each request once
        assert (answered, reserves) == (report.count("requests_answered"), report.count("reserves_answered"))
    printed = any("garbage collector" in line for line in report.lines())
    assert report.collector_passes > 0 and report.longest_collector_pause_ms > 0 and printed, \
        "the drivers did not say how long their garbage collector held up the loop that times the answers"
