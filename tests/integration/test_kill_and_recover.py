"""Fault injection: a terminal process SIGKILLed at every point between journal writes and side effects."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_app.assembly import JOURNAL_FILE
from firmware_app.flow.events import TxStage
from firmware_app.store.journal import Journal
from harness.district import VirtualDistrict
from harness.invariants import violations
from harness.terminal import evidence_from
from protocol.messages import MinutesOutcome, RequestKind
from tests.integration.conftest import Voters

pytestmark = pytest.mark.slow


def _run(plan_path: Path, plan: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
    plan_path.write_text(json.dumps(plan))
    return subprocess.run([sys.executable, "-m", "harness.terminal_proc", str(plan_path)],
                          capture_output=True, timeout=120, check=False)


def _not_killed(index: int, point: str, run: subprocess.CompletedProcess[bytes], trace: Path) -> str:
    """The failure line of a run that ended before its kill point, with the last points it passed."""
    passed = trace.read_text().splitlines()[-3:] if trace.exists() else []
    return f"#{index} {point}: not killed (exit {run.returncode}); its last points: {passed}"


@pytest.mark.parametrize("scenario", ["whole_voter", "paper_out_mid_slip"])
def test_every_kill_point_recovers_to_a_consistent_branch(
    scenario: str, district: VirtualDistrict, voters: Voters, tmp_path: Path
) -> None:
    prefix = "KW" if scenario == "whole_voter" else "KP"

    def plan(name: str, kill_at: int | None, trace: Path | None) -> dict[str, object]:
        provisioning = tmp_path / name / "provisioning"
        if not provisioning.exists():
            district.provision(name, f"B-{name}", provisioning)
        return {"work_dir": str(tmp_path / name), "provisioning": str(provisioning),
                "broker_port": district.broker.address.port,
                "national_code": voters.eligible().national_code.digits, "kill_at": kill_at,
                "trace": str(trace) if trace else None,
                "fail_first_print": scenario == "paper_out_mid_slip" and (kill_at is not None or trace is not None)}

    trace = tmp_path / "dry-run.trace"
    dry = _run(tmp_path / "dry.json", plan(f"{prefix}-dry", None, trace))
    assert dry.returncode == 0, dry.stderr.decode()[-2000:]
    points = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
    assert len(points) >= 20, f"the dry run passed only {len(points)} kill points"

    failures: list[str] = []
    for index, point in enumerate(points, start=1):
        name = f"{prefix}-{index:03d}"
        killed = _run(tmp_path / f"{name}-kill.json", plan(name, index, tmp_path / f"{name}.trace"))
        if killed.returncode != -signal.SIGKILL:
            failures.append(_not_killed(index, point, killed, tmp_path / f"{name}.trace"))
            continue
        recovered = _run(tmp_path / f"{name}-recover.json", {
            **plan(name, None, None),
            "national_code": json.loads((tmp_path / f"{name}-kill.json").read_text())["national_code"],
        })
        if recovered.returncode != 0:
            failures.append(f"#{index} {point}: recovery failed: {recovered.stderr.decode()[-800:]}")
            continue
        registry = district.registry()
        try:
            found = violations(registry.reservations(), [evidence_from(tmp_path / name, name)])
        finally:
            registry.close()
        failures += [f"#{index} {point}: {problem}" for problem in found]
        stages = [tx.stage for tx in evidence_from(tmp_path / name, name).transactions]
        if TxStage.ISSUED not in stages:
            failures.append(f"#{index} {point}: the voter was never served ({stages})")
    assert not failures, "\n".join(failures)


Plan = Callable[[str, int | None, Path | None, str], dict[str, object]]
"""A process plan: terminal name, the kill point (None: run to the end), the trace file, the voter's code."""


def _sweep(swept: list[tuple[int, str]], prefix: str, tmp_path: Path, plan: Plan, code: Callable[[], str],
           problems: Callable[[str], list[str]]) -> list[str]:
    """Each point: a terminal of its own killed there, restarted with the same voter, then its problems."""
    failures: list[str] = []
    for index, point in swept:
        name = f"{prefix}-{index:03d}"
        voter = code()
        killed = _run(tmp_path / f"{name}-kill.json", plan(name, index, tmp_path / f"{name}.trace", voter))
        if killed.returncode != -signal.SIGKILL:
            failures.append(_not_killed(index, point, killed, tmp_path / f"{name}.trace"))
            continue
        recovered = _run(tmp_path / f"{name}-recover.json", plan(name, None, None, voter))
        if recovered.returncode != 0:
            failures.append(f"#{index} {point}: recovery failed: {recovered.stderr.decode()[-800:]}")
            continue
        failures += [f"#{index} {point}: {problem}" for problem in problems(name)]
    return failures


def _minutes_violations(district: VirtualDistrict, work_dir: Path, terminal: str) -> list[str]:
    """The district holds exactly the one set of minutes the terminal journaled, recorded; none left to send."""
    journal = Journal(work_dir / JOURNAL_FILE)
    try:
        held = journal.minutes()
        unsent = [entry for entry in journal.unanswered() if entry.kind is RequestKind.MINUTES]
    finally:
        journal.close()
    registry = district.registry()
    try:
        at_center = [row.minutes_hash for row in registry.minutes_of(district.district)
                     if row.requester.terminal == terminal]
    finally:
        registry.close()
    found = []
    if held is None:
        return [f"no minutes in the journal; the district holds {len(at_center)}"]
    if held.outcome is not MinutesOutcome.RECORDED:
        found.append(f"the journal's minutes are {held.outcome}, not recorded")
    if at_center != [held.minutes_hash]:
        found.append(f"the district holds {len(at_center)} minutes of the terminal, not exactly the journaled one")
    if unsent:
        found.append("a minutes request is left unanswered in the outbox")
    return found


def test_every_kill_point_between_the_close_and_the_districts_answer_recovers_the_minutes_once(
    district: VirtualDistrict, voters: Voters, tmp_path: Path
) -> None:
    """One voter, the close, two officials' entries, the minutes journaled, printed, sent and answered: the process
    is killed at each point from the close on, restarted, and in the end the district holds exactly one set of
    minutes of the terminal, the one its journal recorded, and the branch is consistent."""
    def plan(name: str, kill_at: int | None, trace: Path | None, code: str) -> dict[str, object]:
        provisioning = tmp_path / name / "provisioning"
        if not provisioning.exists():
            district.provision(name, f"B-{name}", provisioning)
        return {"work_dir": str(tmp_path / name), "provisioning": str(provisioning),
                "broker_port": district.broker.address.port, "national_code": code, "kill_at": kill_at,
                "trace": str(trace) if trace else None, "fail_first_print": False, "minutes": True}

    trace = tmp_path / "dry-run.trace"
    dry = _run(tmp_path / "dry.json", plan("KM-dry", None, trace, voters.eligible().national_code.digits))
    assert dry.returncode == 0, dry.stderr.decode()[-2000:]
    assert not _minutes_violations(district, tmp_path / "KM-dry", "KM-dry")
    points = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
    closing = next(index for index, point in enumerate(points, start=1)
                   if point in {"journaled ClosePollsRequested", "journaled ClockTicked"})
    swept = list(enumerate(points, start=1))[closing - 1:]
    assert len(swept) >= 15 and any(point == "done SendMinutes" for _, point in swept), swept

    def found(name: str) -> list[str]:
        registry = district.registry()
        try:
            problems = violations(registry.reservations(), [evidence_from(tmp_path / name, name)])
        finally:
            registry.close()
        return problems + _minutes_violations(district, tmp_path / name, name)

    failures = _sweep(swept, "KM", tmp_path, plan, lambda: voters.eligible().national_code.digits, found)
    assert not failures, "\n".join(failures)


def test_every_kill_point_of_an_offline_slip_and_its_replay_recovers_it_recorded_once(
    district: VirtualDistrict, voters: Voters, tmp_path: Path
) -> None:
    """Under a district permit the head of branch activates it, the voter gets an OFFLINE slip, and its record is
    replayed until the district records it. The process is killed at each point from the activation on and
    restarted: in the end the district holds exactly one record of the terminal's OFFLINE slip, issued, none lost
    and none twice, and the branch is consistent."""
    def plan(name: str, kill_at: int | None, trace: Path | None, code: str) -> dict[str, object]:
        provisioning = tmp_path / name / "provisioning"
        if not provisioning.exists():
            district.provision(name, f"B-{name}", provisioning)
            issued = district.issue_permit(f"B-{name}", [name], datetime.now(UTC) + timedelta(hours=2), max_slips=3)
            (tmp_path / f"{name}.code").write_text(issued.phone_code(1))
        return {"work_dir": str(tmp_path / name), "provisioning": str(provisioning),
                "broker_port": district.broker.address.port, "national_code": code, "kill_at": kill_at,
                "trace": str(trace) if trace else None, "fail_first_print": False,
                "permit_code": (tmp_path / f"{name}.code").read_text()}

    def offline_violations(name: str) -> list[str]:
        evidence = evidence_from(tmp_path / name, name)
        registry = district.registry()
        try:
            records = [r for r in registry.offline_slips_of(district.district) if r.terminal == name]
            found = violations(registry.reservations(), [evidence], records)
        finally:
            registry.close()
        issued = [slip for slip in evidence.offline if slip.outcome is not None]
        if len(records) != 1 or records[0].outcome.value != "issued":
            found.append(f"the district holds {[r.outcome.value for r in records]} for the terminal, not one issued")
        if len(issued) != 1:
            found.append(f"the journal holds {len(issued)} reconciled OFFLINE slips, not one")
        return found

    trace = tmp_path / "dry-run.trace"
    dry = _run(tmp_path / "dry.json", plan("KO-dry", None, trace, voters.eligible().national_code.digits))
    assert dry.returncode == 0, dry.stderr.decode()[-2000:]
    assert not offline_violations("KO-dry")
    points = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
    activation = next(index for index, point in enumerate(points, start=1) if point == "journaled PermitCodeTyped")
    swept = list(enumerate(points, start=1))[activation - 1:]
    assert {"journaled OfflineChecked", "done PrintSlip", "done SendOfflineIssue",
            "journaled OfflineIssueAnswered"} <= {point for _, point in swept}, swept

    failures = _sweep(swept, "KO", tmp_path, plan, lambda: voters.eligible().national_code.digits,
                      offline_violations)
    assert not failures, "\n".join(failures)
