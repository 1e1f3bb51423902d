"""Shared fixtures: one real mosquitto per test session, on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.broker import Broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real mosquitto with the project's config. Missing mosquitto is an error, never a skip."""
    work: Path = tmp_path_factory.mktemp("broker")
    with Broker(work) as running:
        yield running
