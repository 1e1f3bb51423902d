"""The terminal's MQTT link to the district center: requests out, raw answers and broadcasts into the loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from firmware_app.runtime.settings import TerminalIdentity
from protocol.mqtt import BrokerAddress, MqttSession, TlsFiles
from protocol.topics import answer_topic, broadcast_topic, request_topic


class LinkReceiver(Protocol):
    """Where the link delivers (the runtime): each call runs on the network thread and must only post."""

    def answer_arrived(self, payload: bytes) -> None: ...

    def broadcast_arrived(self, payload: bytes) -> None: ...

    def connection_changed(self, connected: bool) -> None: ...


class CenterLink:
    """Publishes on this terminal's request topic; from `start`, hands every answer, unverified, to the receiver.

    `answer_tap`, if given, also sees every answer as it came off the wire, before the receiver (a test's record)."""

    def __init__(self, identity: TerminalIdentity, broker: BrokerAddress, tls: TlsFiles | None = None,
                 answer_tap: Callable[[bytes], None] | None = None) -> None:
        self._request_topic = request_topic(identity.district, identity.terminal)
        self._answers = answer_topic(identity.district, identity.terminal)
        self._broadcast = broadcast_topic(identity.district)
        self._answer_tap = answer_tap
        self._on_answer: Callable[[bytes], None] = _before_start
        self._on_broadcast: Callable[[bytes], None] = _before_start
        self._on_connection: Callable[[bool], None] = _before_start
        self._session = MqttSession(
            client_id=f"terminal-{identity.terminal}",
            broker=broker,
            subscriptions=[self._answers, self._broadcast],
            on_message=self._message,
            on_connection=self._connection,
            tls=tls,
        )

    @property
    def connected(self) -> bool:
        return self._session.connected

    def start(self, receiver: LinkReceiver) -> None:
        """Connect (and keep reconnecting); answers, broadcasts and connection changes go to `receiver`."""
        self._on_answer = receiver.answer_arrived
        self._on_broadcast = receiver.broadcast_arrived
        self._on_connection = receiver.connection_changed
        self._session.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._session.wait_connected(timeout)

    def stop(self) -> None:
        self._session.stop()

    def publish_request(self, payload: bytes) -> bool:
        return self._session.publish(self._request_topic, payload)

    def _message(self, topic: str, payload: bytes) -> None:
        if topic == self._answers:
            if self._answer_tap is not None:
                self._answer_tap(payload)
            self._on_answer(payload)
        elif topic == self._broadcast:
            self._on_broadcast(payload)

    def _connection(self, connected: bool) -> None:
        self._on_connection(connected)


def _before_start(_delivered: object) -> None:
    """Nothing arrives before `start`: the session connects only then."""
