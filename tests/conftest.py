"""Shared fixtures: the one pcscd of the machine and a private PostgreSQL cluster, for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.card.pcscd import Pcscd
from harness.postgres import PostgresCluster


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """The one pcscd of the machine with our vpcd reader; missing pcscd or vpcd fails, never skips."""
    work: Path = tmp_path_factory.mktemp("pcscd")
    with Pcscd(work) as service:
        yield service


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster for the session (Unix socket in its own folder, fsync on); missing PostgreSQL
    fails, never skips. Tests take a fresh schema or database of it each."""
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_dsn(postgres: PostgresCluster) -> str:
    """The connection string of the session cluster's own database, as its superuser."""
    return postgres.dsn()
