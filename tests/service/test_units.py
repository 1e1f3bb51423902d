"""The systemd units as systemd itself reads them: they verify, and their sandbox exposure is at most 2.0."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from firmware_app.config import SCREEN_PORT

UNITS = sorted((Path(__file__).resolve().parents[2] / "systemd").glob("*.service"))
SYSTEM_UNITS = Path("/lib/systemd/system")
MOST_EXPOSURE = 2.0
"""The bound for every unit, the browser's too: it keeps what cage and Chromium need (user, pid and net
namespaces and chroot for Chromium's own sandbox, W+X pages for its JIT, netlink for udev, the display and input
devices bound into a private /dev), and the rest of its sandbox pays for that."""
_OVERALL = re.compile(r"Overall exposure level for (?P<unit>\S+): (?P<figure>\d+\.\d)\b")


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found is not None, "systemd-analyze (Debian's systemd package) is needed to check the units"
    return found


def _executables(unit: Path) -> list[str]:
    lines = unit.read_text().splitlines()
    return [line.split("=", 1)[1].split()[0].lstrip("-@:+!") for line in lines if line.startswith("ExecStart")]


def test_there_are_units_to_check() -> None:
    assert {unit.name for unit in UNITS} >= {"kiosk-terminal.service", "kiosk-center.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_unit_verifies(unit: Path, tmp_path: Path) -> None:
    """In a root of its own: the system's units, this unit, and its programs where the install puts them."""
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    installed = tmp_path / "etc/systemd/system"
    installed.mkdir(parents=True)
    shutil.copy(unit, installed / unit.name)
    for program in _executables(unit):
        stub = tmp_path / program.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    result = subprocess.run([_analyze(), "verify", f"--root={tmp_path}", f"/etc/systemd/system/{unit.name}"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_units_exposure_is_within_its_bound(unit: Path) -> None:
    result = subprocess.run([_analyze(), "security", "--offline=true", str(unit)],
                            capture_output=True, text=True, timeout=60, check=False)
    found = _OVERALL.search(result.stdout)
    assert result.returncode == 0 and found is not None, result.stdout + result.stderr
    assert found["unit"] == unit.name
    assert float(found["figure"]) <= MOST_EXPOSURE, f"{unit.name}: {found[0]}"


def test_the_install_writes_the_units_where_systemd_finds_them_and_they_verify(tmp_path: Path) -> None:
    """The install command, staged: the units, config, tmpfiles, udev rule and browser policy in place, the
    code without the harness, and the installed units verify against the system's own."""
    stage = tmp_path / "stage"
    script = Path(__file__).resolve().parents[2] / "scripts" / "install-terminal"
    subprocess.run([str(script), "--stage", str(stage)], check=True, timeout=120)
    for path in ("etc/kiosk/terminal.toml", "usr/lib/tmpfiles.d/kiosk.conf", "etc/udev/rules.d/99-kiosk.rules",
                 "etc/chromium/policies/managed/kiosk.json", "opt/kiosk/firmware_app/service.py"):
        assert (stage / path).is_file(), path
    assert not (stage / "opt/kiosk/harness").exists(), "a production image carries no harness"
    policy = json.loads((stage / "etc/chromium/policies/managed/kiosk.json").read_text())
    assert policy["URLBlocklist"] == ["*"] and policy["URLAllowlist"] == [f"http://127.0.0.1:{SCREEN_PORT}"]
    shutil.copytree(SYSTEM_UNITS, stage / "usr/lib/systemd/system", symlinks=True, dirs_exist_ok=True)
    installed = sorted((stage / "etc/systemd/system").glob("*.service"))
    assert {unit.name for unit in installed} == {"kiosk-terminal.service", "kiosk-screen.service"}
    for unit in installed:
        for program in _executables(unit):
            stub = stage / program.lstrip("/")
            if not stub.exists():
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text("#!/bin/sh\n")
                stub.chmod(0o755)
    result = subprocess.run([_analyze(), "verify", f"--root={stage}",
                             *(f"/etc/systemd/system/{unit.name}" for unit in installed)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_browser_shows_the_screen_the_terminal_serves() -> None:
    unit = (Path(__file__).resolve().parents[2] / "systemd" / "kiosk-screen.service").read_text()
    assert f"--app=http://127.0.0.1:{SCREEN_PORT}/" in unit


def test_the_browser_keeps_the_devices_a_compositor_needs() -> None:
    """Its private /dev still has the display and input nodes, and the device cgroup lets cage and Chromium
    use them: without them cage cannot start and the screen stays dark."""
    unit = (Path(__file__).resolve().parents[2] / "systemd" / "kiosk-screen.service").read_text().splitlines()
    values = [line.split("=", 1) for line in unit if "=" in line and not line.startswith("#")]
    bound = {path for key, value in values if key == "BindPaths" for path in value.split()}
    allowed = {value for key, value in values if key == "DeviceAllow"}
    assert ["PrivateDevices", "yes"] in values
    assert {"/dev/dri", "/dev/input"} <= bound
    assert {"char-drm rw", "char-input r", "/dev/tty1 rw"} <= allowed
