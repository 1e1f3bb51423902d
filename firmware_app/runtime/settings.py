"""The runtime's settings: who this terminal is, its keys, and how long it waits for the center."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import OKPKey

from firmware_app.flow.events import CLOCK_TOLERANCE, DeadlineKind
from protocol.minutes import ElectionBundle

DEFAULT_DEADLINES: dict[DeadlineKind, float] = {
    DeadlineKind.RESERVE: 3.0, DeadlineKind.COMMIT: 3.0, DeadlineKind.OPEN: 5.0, DeadlineKind.CLOSE: 5.0,
    DeadlineKind.MINUTES: 10.0,
}
"""Seconds the terminal waits for each kind of center answer before it tells the operator there is none."""


@dataclass(frozen=True)
class TerminalIdentity:
    terminal: str
    branch: str
    district: str


@dataclass(frozen=True)
class ElectionOfDay:
    """The district's signed election bundle as provisioning verified it, and the SHA-256 of its signed form
    (the minutes name it)."""

    bundle: ElectionBundle
    bundle_hash: str


@dataclass(frozen=True)
class RuntimeSettings:
    identity: TerminalIdentity
    training: bool
    center_signing_key: OKPKey
    center_sealing_key: OKPKey
    terminal_signing_key: OKPKey
    """The terminal's own Ed25519 key (made on the device at provisioning); every request is signed with it."""
    voter_key: bytes
    software_version: str
    software_hash: str
    config_hash: str
    opens_at: datetime
    closes_at: datetime
    deadlines: dict[DeadlineKind, float]
    resend_interval: float = 5.0
    clock_tolerance: timedelta = CLOCK_TOLERANCE
    """The polls do not open when the terminal's clock is further than this from the center's."""
    longest_extension: timedelta = timedelta(hours=8)
    """A signed extension may move the close at most this far past the set closing time (18:00 to 02:00)."""
    election: ElectionOfDay | None = None
    """What the branch counts for; None: no minutes can be recorded (a kiosk refuses to start without it)."""
    permit_key: OKPKey | None = None
    """The terminal's private X25519 key that opens the secrets of an offline permit sealed to it; None: no permit
    can be held (a permit that arrives is refused)."""
