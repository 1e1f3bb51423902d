"""The terminal's status on its retained topic: ONLINE at each connection's birth, OFFLINE as its will or goodbye."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from joserfc.jwk import OKPKey

from firmware_app.runtime.settings import TerminalIdentity
from firmware_app.telemetry.birth import BirthCounter
from protocol.mqtt import Will
from protocol.seal import sign_telemetry
from protocol.telemetry import LinkState, TerminalStatus
from protocol.topics import status_topic


@dataclass(frozen=True)
class StatusPlan:
    """What the link needs to say who is online: the terminal's signing key, its birth counter and clock."""

    signing_key: OKPKey
    births: BirthCounter
    clock: Callable[[], datetime]


class StatusSigner:
    """Birth numbers per connection: the will given at connect is OFFLINE of the birth that connection will
    announce, so a stale will (an older birth) can never overwrite a newer birth at the district."""

    def __init__(self, identity: TerminalIdentity, plan: StatusPlan) -> None:
        self._identity = identity
        self._plan = plan
        self.topic = status_topic(identity.district, identity.terminal)
        self._next = plan.births.take()
        self.current: int | None = None
        """The birth of the connection that is up; None while the link is down."""

    def will(self) -> Will:
        """OFFLINE of the next connection's birth, for the broker to publish if that connection dies."""
        return Will(self.topic, self._signed(LinkState.OFFLINE, self._next))

    def born(self) -> bytes:
        """The connection is up: its birth (ONLINE, to be published retained); the next birth is taken now."""
        self.current, self._next = self._next, self._plan.births.take()
        return self._signed(LinkState.ONLINE, self.current)

    def lost(self) -> None:
        self.current = None

    def goodbye(self) -> bytes | None:
        """OFFLINE of the current birth, for a clean stop (the broker sends no will then); None when down."""
        return None if self.current is None else self._signed(LinkState.OFFLINE, self.current)

    def _signed(self, state: LinkState, birth: int) -> bytes:
        identity = self._identity
        status = TerminalStatus(identity.terminal, identity.branch, identity.district, state, birth, self._plan.clock())
        return sign_telemetry(status, self._plan.signing_key)
