"""The runtime's settings: who this terminal is, and how long it waits for the center."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from joserfc.jwk import OKPKey

from firmware_app.flow.events import DeadlineKind


@dataclass(frozen=True)
class TerminalIdentity:
    terminal: str
    branch: str
    district: str


@dataclass(frozen=True)
class RuntimeSettings:
    identity: TerminalIdentity
    training: bool
    center_signing_key: OKPKey
    center_sealing_key: OKPKey
    voter_key: bytes
    software_version: str
    software_hash: str
    config_hash: str
    opens_at: datetime
    closes_at: datetime
    deadlines: dict[DeadlineKind, float]
    resend_interval: float = 5.0
