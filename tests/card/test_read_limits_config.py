"""The read deadline and the APDU cap in the terminal's config: optional, with defaults, strictly checked."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from firmware_app.config import ConfigProblems, TerminalConfig, parse_config
from firmware_app.identity.settings import CardSettings
from hal.card_reader import ReadLimits

EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "terminal.toml.example"


def _with_card(**options: Any) -> dict[str, Any]:
    data = tomllib.loads(EXAMPLE.read_text())
    data["card"].update(options)
    return data


def test_the_limits_default_when_absent_and_are_read_when_given() -> None:
    default = parse_config(_with_card())
    assert isinstance(default, TerminalConfig) and default.card_read_limits == ReadLimits()
    given = parse_config(_with_card(read_deadline_s=3, max_apdus_per_read=500))
    assert isinstance(given, TerminalConfig)
    assert given.card_read_limits == ReadLimits(3.0, 500)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"read_deadline_s": "5"}, "[card] read_deadline_s: must be float"),
        ({"read_deadline_s": True}, "[card] read_deadline_s: must be float"),
        ({"read_deadline_s": 0.0}, "[card] read_deadline_s: 0.1-120 seconds"),
        ({"read_deadline_s": float("nan")}, "[card] read_deadline_s: 0.1-120 seconds"),
        ({"read_deadline_s": 600}, "[card] read_deadline_s: 0.1-120 seconds"),
        ({"max_apdus_per_read": 2.5}, "[card] max_apdus_per_read: must be int"),
        ({"max_apdus_per_read": 5}, "[card] max_apdus_per_read: 10-100000"),
        ({"read_timeout": 5}, "[card] read_timeout: unknown option"),
    ],
)
def test_a_bad_limit_is_named(options: dict[str, Any], problem: str) -> None:
    result = parse_config(_with_card(**options))
    assert isinstance(result, ConfigProblems)
    assert any(line.startswith(problem) for line in result.problems), result.problems


def test_card_settings_read_the_limits_and_refuse_nonsense() -> None:
    settings = CardSettings.from_table({"csca_path": "x.pem", "read_deadline_s": 2, "max_apdus_per_read": 300})
    assert settings.limits == ReadLimits(2.0, 300)
    assert CardSettings.from_table({"csca_path": "x.pem"}).limits == ReadLimits()
    with pytest.raises(ValueError, match="read_deadline_s"):
        CardSettings.from_table({"csca_path": "x.pem", "read_deadline_s": -1})
    with pytest.raises(ValueError, match="max_apdus_per_read"):
        CardSettings.from_table({"csca_path": "x.pem", "max_apdus_per_read": True})
