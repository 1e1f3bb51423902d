"""An in-memory link to the center for fast runtime tests: records what is published, and can be offline."""

from __future__ import annotations

import threading
from collections.abc import Callable


class InMemoryChannel:
    """A `RequestChannel` that behaves as `CenterLink.publish_request`: while disconnected it sends nothing and
    returns False (the request stays unanswered in the journal's outbox, for the loop to re-send); connected,
    it hands the payload on and returns True.

    `watch` is called with every payload the runtime offers, connected or not, at the moment it publishes (a
    test looks at the journal then); `respond`, if set, is the center behind the link and gets every payload
    delivered."""

    def __init__(self, watch: Callable[[bytes], None] | None = None) -> None:
        self.connected = True
        self.respond: Callable[[bytes], None] | None = None
        self._watch = watch
        self._changed = threading.Condition()
        self._offered: list[bytes] = []
        self._published: list[bytes] = []
        self.told_peers: list[tuple[str, int, bytes]] = []
        """The OFFLINE slips told to the permit's other terminals: permit, sequence and line."""

    def publish_request(self, payload: bytes) -> bool:
        if self._watch is not None:
            self._watch(payload)
        with self._changed:
            self._offered.append(payload)
            delivered = self.connected
            if delivered:
                self._published.append(payload)
            self._changed.notify_all()
        if delivered and self.respond is not None:
            self.respond(payload)
        return delivered

    def tell_peers(self, permit_id: str, sequence: int, payload: bytes) -> bool:
        with self._changed:
            self.told_peers.append((permit_id, sequence, payload))
            self._changed.notify_all()
        return self.connected

    @property
    def offered(self) -> list[bytes]:
        """Every payload the runtime tried to publish, in order."""
        with self._changed:
            return list(self._offered)

    @property
    def published(self) -> list[bytes]:
        """The payloads that went out (offered while connected), in order."""
        with self._changed:
            return list(self._published)

    def wait_offered(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """Wait until the runtime has offered `count` payloads in all; a failure says how many came."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._offered) >= count, timeout):
                raise AssertionError(f"the runtime offered {len(self._offered)} requests, expected {count}")
            return list(self._offered)
