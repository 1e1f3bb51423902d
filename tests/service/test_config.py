"""The terminal's config file: the example loads; every wrong, missing or unknown option is named."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from firmware_app.config import ConfigProblems, TerminalConfig, load_config, parse_config
from firmware_app.service import poll_window

EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "terminal.toml.example"


def _example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def test_the_shipped_example_is_a_valid_config() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, TerminalConfig)
    assert config.printer_profile == "generic-80" and config.timezone == ZoneInfo("Asia/Tehran")
    assert config.card_reader is None and config.camera_source == "device:0"
    assert config.telemetry_interval_s == 30.0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(extra={}), "[extra]: unknown section"),
        (lambda d: d["printer"].update(baud=9600), "[printer] baud: unknown option"),
        (lambda d: d["printer"].pop("device"), "[printer] device: missing"),
        (lambda d: d["printer"].update(profile="epson-tm88"), "[printer] profile: one of"),
        (lambda d: d["broker"].update(port="8883"), "[broker] port: must be int"),
        (lambda d: d["broker"].update(port=70000), "[broker] port: 1-65535"),
        (lambda d: d["terminal"].update(timezone="Mars/Olympus"), "[terminal] timezone: unknown zone"),
        (lambda d: d["terminal"].update(timezone="Asia"), "[terminal] timezone: unknown zone"),
        (lambda d: d["gpio"].update(enabled="yes"), "[gpio] enabled: must be bool"),
        (lambda d: d.update(card=[]), "[card]: must be a table"),
        (lambda d: d.update(screen={"port": 80}), "[screen] port: 1024-65535"),
        (lambda d: d.update(screen={"port": "8480"}), "[screen] port: must be int"),
        (lambda d: d.update(screen={"lock_after_s": 5}), "[screen] lock_after_s: 30-3600 seconds"),
        (lambda d: d.update(screen={"host": "0.0.0.0"}), "[screen] host: unknown option"),
        (lambda d: d.update(telemetry={"interval_s": 1}), "[telemetry] interval_s: 5-600 seconds"),
        (lambda d: d.update(telemetry={"interval_s": "30"}), "[telemetry] interval_s: must be float"),
    ],
)
def test_a_bad_option_is_named(change: Any, problem: str) -> None:
    data = _example()
    change(data)
    result = parse_config(data)
    assert isinstance(result, ConfigProblems)
    assert any(line.startswith(problem) for line in result.problems), result.problems


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "terminal.toml"
    broken.write_text("[terminal\n")
    assert isinstance(load_config(broken), ConfigProblems)
    assert isinstance(load_config(tmp_path / "missing.toml"), ConfigProblems)


def test_polls_closing_after_midnight_close_the_next_day() -> None:
    zone = ZoneInfo("Asia/Tehran")
    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    opens, closes = poll_window(time(7, 0), time(2, 0), zone, now)
    assert opens == datetime(2026, 11, 29, 7, 0, tzinfo=zone)
    assert closes == datetime(2026, 11, 30, 2, 0, tzinfo=zone)
    _, same_day = poll_window(time(8, 0), time(18, 0), zone, now)
    assert same_day == datetime(2026, 11, 29, 18, 0, tzinfo=zone)
