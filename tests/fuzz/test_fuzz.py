"""A bounded, seeded fuzz run over every parser of bytes from outside: no input may escape as an exception."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from center.config import CenterConfig, load_center_config
from center.storage import PostgresSettings
from harness.fuzz import FuzzTarget, all_targets, run_target
from harness.fuzz.files import CENTER_SEED

SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "20261201"))
INPUTS = int(os.environ.get("KIOSK_FUZZ_INPUTS", "3000"))
TARGETS = list(all_targets())


def test_every_area_has_fuzz_targets() -> None:
    assert len({t.name for t in TARGETS}) == len(TARGETS), "two fuzz targets share a name"
    assert TARGETS, "no fuzz target is registered"


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_no_input_escapes_the_parser(target: FuzzTarget) -> None:
    report = run_target(target, INPUTS, SEED)
    print(report)
    detail = "\n".join(f"input {data[:400]!r}:\n{trace}" for data, trace in report.escapes)
    assert report.escape_count == 0, f"{report}\n{detail}"


def test_the_center_config_the_fuzzer_mutates_is_whole_and_accepted(tmp_path: Path) -> None:
    """The fuzzer starts from a config with every section, so that its mutations reach each section's checks."""
    (tmp_path / "center.toml").write_bytes(CENTER_SEED)
    config = load_center_config(tmp_path / "center.toml")
    assert isinstance(config, CenterConfig), config
    assert isinstance(config.database, PostgresSettings) and config.tls is not None
    assert None not in (config.fleet, config.dashboard, config.minutes, config.snapshot)
