"""A bounded, seeded fuzz run over every parser of bytes from outside: no input may escape as an exception."""

from __future__ import annotations

import os

import pytest

from harness.fuzz import FuzzTarget, all_targets, run_target

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
