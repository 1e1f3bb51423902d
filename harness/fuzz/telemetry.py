"""Fuzz targets for telemetry as the district receives it: signed status messages and health reports."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from harness.fuzz import FuzzTarget, mutate
from protocol.codec import ProtocolError
from protocol.messages import CloseCounts
from protocol.seal import generate_signing_key, open_health, open_status, public_part, sign_telemetry
from protocol.telemetry import (
    ComponentHealth,
    HealthReport,
    LinkState,
    OpenAlarm,
    PollsState,
    TerminalStatus,
    supersedes,
)

_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def _report(rng: random.Random, birth: int) -> HealthReport:
    components = tuple(ComponentHealth(name, rng.random() < 0.8, rng.choice(["ready", "no_paper", "not_found"]))
                       for name in rng.sample(["printer", "card_reader", "camera", "center_link"], rng.randint(0, 4)))
    return HealthReport("T-0001", "B-0101", "D01", birth, rng.randint(0, 5000), datetime.now(UTC), "0" * 32,
                        rng.randint(0, 90_000), "0.1.0", "a" * 64, "b" * 64, rng.choice(list(PollsState)),
                        rng.random() < 0.1, components, rng.choice([None, 40]), rng.choice([None, -1500, 20]),
                        rng.randint(0, 9), rng.randint(0, 3), rng.choice([None, 9000]),
                        rng.choice([None, 48_000]), rng.choice([None, False, True]),
                        CloseCounts(*(rng.randint(0, 500) for _ in range(8))),
                        tuple(OpenAlarm(kind, 1) for kind in rng.sample(["tamper", "fault"], rng.randint(0, 2))))


def targets() -> Sequence[FuzzTarget]:
    key = generate_signing_key()
    public = public_part(key)
    seeds = random.Random(20261203)
    held = TerminalStatus("T-0001", "B-0101", "D01", LinkState.ONLINE, 5, datetime.now(UTC))
    statuses = [sign_telemetry(dataclasses.replace(held, state=state, birth=birth), key)
                for state in LinkState for birth in (4, 5, 6)]
    reports = [sign_telemetry(_report(seeds, birth), key) for birth in (4, 5, 6) for _ in range(3)]

    def feed_status(data: bytes) -> object:
        opened = open_status(data, public)
        return opened if isinstance(opened, ProtocolError) else supersedes(opened, held)

    def feed_health(data: bytes) -> object:
        opened = open_health(data, public)
        return opened if isinstance(opened, ProtocolError) else supersedes(opened, held)

    return [FuzzTarget("mqtt.terminal_status", lambda rng: mutate(rng, rng.choice(statuses), _BASE64), feed_status),
            FuzzTarget("mqtt.health_report", lambda rng: mutate(rng, rng.choice(reports), _BASE64), feed_health)]
