"""Shared fixtures: the one pcscd of the machine, for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.card.pcscd import Pcscd


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """The one pcscd of the machine with our vpcd reader; missing pcscd or vpcd fails, never skips."""
    work: Path = tmp_path_factory.mktemp("pcscd")
    with Pcscd(work) as service:
        yield service
