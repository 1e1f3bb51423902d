"""Fault injection: a terminal process SIGKILLed at every point between journal writes and side effects."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_app.flow.events import TxStage
from harness.district import VirtualDistrict
from harness.invariants import violations
from harness.terminal import evidence_from
from tests.integration.conftest import Voters

pytestmark = pytest.mark.slow


def _run(plan_path: Path, plan: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
    plan_path.write_text(json.dumps(plan))
    return subprocess.run([sys.executable, "-m", "harness.terminal_proc", str(plan_path)],
                          capture_output=True, timeout=120, check=False)


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
            failures.append(f"#{index} {point}: not killed (exit {killed.returncode})")
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
