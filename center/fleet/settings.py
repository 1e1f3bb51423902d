"""The fleet service's settings, and where its store lives given the center's configuration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from center.config import CenterConfig
from center.fleet.rules import RuleSettings
from center.fleet.store import DEFAULT_KEEP, FleetLocation, beside_registry
from center.storage import PostgresSettings

DEFAULT_IDENTITY_SUFFIX = "fleet"


@dataclass(frozen=True)
class FleetSettings:
    """`identity`: the CN of the fleet listener's own certificate of the center CA (`<identity>.pem` and `.key`
    in the center's `cert_dir`); the broker forces the client id to it, and the center ACL admits every live
    center certificate (`kiosk-center ca center --name <identity>`, then `ca acl`)."""

    identity: str
    rules: RuleSettings
    store: FleetLocation | None = None
    """None: an SQLite file beside the registry's, or the registry's own PostgreSQL database."""
    keep: int = DEFAULT_KEEP
    evaluate_every_s: float = 5.0
    """The alert rules run this often, and soon after each message applied."""
    evaluate_gap_s: float = 1.0
    """...but never sooner than this after their last run."""
    closed_shown: timedelta = timedelta(hours=12)
    """Closed alerts stay in the feed this long."""
    closed_kept: int = 200
    """At most this many closed alerts in the feed."""
    save_batch: int = 32
    """The intake keeps at most this many saves in one transaction (a batch of 32 costs the database about half
    what 32 one-report transactions do, and is short enough not to hold a core from the registry's commits)."""
    save_gather_s: float = 0.1
    """...waiting this long after the first of a batch for the others."""
    save_queue: int = 20_000
    """Saves waiting beyond this are dropped and counted unsaved (the store is down or far behind)."""
    nice: int = 10
    """The fleet's listener and rules run this many nice steps below the process (0: not lowered): telemetry
    never takes a core from a voter's reserve (a step is about 1.25 times less CPU when both want it)."""
    idle: bool = True
    """...and under SCHED_IDLE: they run only on a core that no worker wants, and a worker that wakes takes the
    core at once (a nice value alone leaves the fleet a share of each core and a slice to finish)."""


def default_identity(config: CenterConfig) -> str:
    return f"{config.instance}-{DEFAULT_IDENTITY_SUFFIX}"


def fleet_location(config: CenterConfig, settings: FleetSettings) -> FleetLocation:
    if settings.store is not None:
        return settings.store
    if isinstance(config.database, PostgresSettings):
        return dataclasses.replace(config.database, pool_size=2)
    return beside_registry(config.database)
