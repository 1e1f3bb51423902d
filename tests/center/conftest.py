"""Fixtures of the center tests: the center's keys, an election day and a registry with a small roll."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.registry import Registry
from protocol.seal import generate_sealing_key, generate_signing_key
from tests.center.sample import ELECTION_DAY, SMALL_ROLL


@pytest.fixture(scope="session")
def signing_key() -> OKPKey:
    return generate_signing_key()


@pytest.fixture(scope="session")
def sealing_key() -> OKPKey:
    return generate_sealing_key()


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite"
    setup = Registry(path, ELECTION_DAY)
    loaded = setup.load_roll(SMALL_ROLL)
    setup.close()
    assert loaded == len(SMALL_ROLL), f"the small roll did not load: {loaded}"
    return path


@pytest.fixture
def registry(registry_path: Path) -> Iterator[Registry]:
    opened = Registry(registry_path, ELECTION_DAY)
    yield opened
    opened.close()
