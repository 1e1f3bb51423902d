"""Shared fixtures: one real mosquitto and the one pcscd of the machine, per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.broker import Broker
from harness.card.pcscd import Pcscd


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real mosquitto with the project's config. Missing mosquitto is an error, never a skip."""
    work: Path = tmp_path_factory.mktemp("broker")
    with Broker(work) as running:
        yield running


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """The one pcscd of the machine with our vpcd reader; missing pcscd or vpcd fails, never skips."""
    work: Path = tmp_path_factory.mktemp("pcscd")
    with Pcscd(work) as service:
        yield service
