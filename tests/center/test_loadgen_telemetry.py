"""A small load run with the telemetry load and the center's fleet service beside it, on each engine: every birth and
health report the simulated terminals sign goes through the real broker (mutual TLS, ACL) and is applied by the
real fleet intake, the burst's printers out of paper included; and when the load's reports fall due."""

from __future__ import annotations

from pathlib import Path

import pytest

from center.fleet.settings import fleet_location
from center.fleet.store import open_fleet_store
from center.synthetic_roll import generate_roll
from harness.loadgen.district import LoadDistrict, Pace
from harness.loadgen.plan import Mix, deal
from harness.loadgen.telemetry import TelemetryPlan
from tests.center.conftest import FreshLocation
from tests.center.sample import ELECTION_DAY

pytestmark = pytest.mark.real_peer
TERMINALS = 8
PACE = Pace(rate=4, seconds=3, drivers=2, answer_timeout=20, tries=3, telemetry_interval_s=1.0, telemetry_burst=0.5)
"""Each terminal reports every second; at 0.5 s half of them (two of each driver) have their printer run out of
paper."""


def test_the_fleet_intake_applies_every_report_the_load_generator_sends(tmp_path: Path,
                                                                        fresh_location: FreshLocation) -> None:
    roll = generate_roll(100, 5, ELECTION_DAY)
    dealt = deal(roll, ELECTION_DAY, TERMINALS, 12, Mix(), seed=2)
    location = fresh_location()
    with LoadDistrict(tmp_path / "district", TERMINALS, ELECTION_DAY, max_worker_processes=1) as district:
        district.load_roll(location, roll)
        figures = district.run(location, 1, dealt, PACE, fleet_service=True)
        config = district.config(location, 1)
        store = open_fleet_store(fleet_location(config, district.fleet_service(location).settings), config.district)
        try:
            records = store.load().records
        finally:
            store.close()
    report, fleet = figures.report, figures.fleet
    assert fleet is not None, "the run had no fleet service"
    assert report.connected == TERMINALS and not report.errors, f"the load run found errors: {report.errors}"
    assert report.count("births_sent") == report.count("reports_before") == TERMINALS, \
        "each terminal announces its birth and first report on connecting"
    assert report.count("reports_sent") >= 2 * TERMINALS, "the terminals did not report every second"
    assert report.count("burst_sent") == TERMINALS // 2
    assert len(report.report_lags_ms) == report.count("reports_sent") and report.boards_cpu_s > 0, \
        "the boards' processes signed each report of the window and said what it cost them"
    assert fleet.refused == {}, f"the fleet intake refused telemetry of the load generator: {fleet.refused}"
    assert fleet.applied == report.count("reports_sent") and fleet.stale == 0, \
        f"{report.count('reports_sent')} reports sent in the window, {fleet.applied} applied, {fleet.stale} stale"
    out_of_paper = {name for name, record in records.items() if record.health is not None
                    and any(c.component == "printer" and c.condition == "no_paper" for c in record.health.components)}
    assert len(out_of_paper) == TERMINALS // 2, f"the store holds these printers out of paper: {out_of_paper}"
    assert all(record.health is not None for record in records.values()) and len(records) == TERMINALS


def test_the_plan_staggers_the_reports_and_the_burst_moves_each_changed_terminals_next() -> None:
    plan = TelemetryPlan(4, 10.0, 0.5, 0.5, start=100.0)
    # Regular reports at 101.25, 103.75, 106.25, 108.75; the burst at 105: terminals 0 and 2.
    assert plan.due(101.0, 16) == []
    assert plan.due(104.0, 1) == [(0, False)], "more reports than asked for at once"
    assert plan.due(104.0, 16) == [(1, False)]
    assert plan.due(105.0, 16) == [(0, True), (2, True)]
    assert plan.due(109.0, 16) == [(3, False)], "terminal 2 reported at once: its report at 106.25 is not due"
    assert plan.due(114.0, 16) == [(1, False)], "terminal 0's next is an interval after the burst, not after 101.25"
    assert plan.due(115.0, 16) == [(0, False), (2, False)]
    assert plan.next_at() == 118.75
