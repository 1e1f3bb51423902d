"""The terminal's MQTT link to the district center: requests out, raw answers and broadcasts into the loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from firmware_app.runtime.settings import TerminalIdentity
from firmware_app.telemetry.status import StatusPlan, StatusSigner
from protocol.mqtt import BrokerAddress, MqttSession, TlsFiles
from protocol.topics import (
    answer_topic,
    broadcast_topic,
    peer_slip_topic,
    peer_slips_subscription,
    permits_subscription,
    request_topic,
    snapshot_subscription,
    telemetry_topic,
)

GOODBYE_WAIT_S = 2.0
"""How long a clean stop waits for the broker to take the OFFLINE status."""


class LinkReceiver(Protocol):
    """Where the link delivers (the runtime): each call runs on the network thread and must only post."""

    def answer_arrived(self, payload: bytes) -> None: ...

    def broadcast_arrived(self, payload: bytes) -> None: ...

    def snapshot_arrived(self, payload: bytes) -> None: ...

    def peer_slip_arrived(self, topic: str, payload: bytes) -> None: ...

    def connection_changed(self, connected: bool) -> None: ...


class CenterLink:
    """Publishes on this terminal's request topic; from `start`, hands every answer, unverified, to the receiver,
    and so every district broadcast, every permit message of the terminal's branch, every part of the district's
    "already voted" snapshot and every OFFLINE slip the district's terminals tell their peers (they verify in the
    loop).

    `answer_tap`, if given, also sees every answer as it came off the wire, before the receiver (a test's record)."""

    def __init__(self, identity: TerminalIdentity, broker: BrokerAddress, tls: TlsFiles | None = None,
                 answer_tap: Callable[[bytes], None] | None = None, status: StatusPlan | None = None) -> None:
        """With `status`, the link announces the terminal: ONLINE (retained) at each connection, OFFLINE as its will
        and at a clean stop; health reports go on the telemetry topic."""
        self._request_topic = request_topic(identity.district, identity.terminal)
        self._telemetry_topic = telemetry_topic(identity.district, identity.terminal)
        self._status = StatusSigner(identity, status) if status is not None else None
        self._answers = answer_topic(identity.district, identity.terminal)
        self._broadcast = broadcast_topic(identity.district)
        self._permits = permits_subscription(identity.district, identity.branch)
        self._snapshot = snapshot_subscription(identity.district)
        self._peers = peer_slips_subscription(identity.district)
        self._identity = identity
        self._answer_tap = answer_tap
        self._on_answer: Callable[[bytes], None] = _before_start
        self._on_broadcast: Callable[[bytes], None] = _before_start
        self._on_snapshot: Callable[[bytes], None] = _before_start
        self._on_peer_slip: Callable[[str, bytes], None] = _before_start
        self._on_connection: Callable[[bool], None] = _before_start
        self._session = MqttSession(
            client_id=f"terminal-{identity.terminal}",
            broker=broker,
            subscriptions=[self._answers, self._broadcast, self._permits, self._snapshot, self._peers],
            on_message=self._message,
            on_connection=self._connection,
            tls=tls,
            will=self._status.will() if self._status is not None else None,
        )

    @property
    def connected(self) -> bool:
        return self._session.connected

    def start(self, receiver: LinkReceiver) -> None:
        """Connect (and keep reconnecting); answers, broadcasts and connection changes go to `receiver`."""
        self._on_answer = receiver.answer_arrived
        self._on_broadcast = receiver.broadcast_arrived
        self._on_snapshot = receiver.snapshot_arrived
        self._on_peer_slip = receiver.peer_slip_arrived
        self._on_connection = receiver.connection_changed
        self._session.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._session.wait_connected(timeout)

    @property
    def birth(self) -> int | None:
        """The birth number of the connection that is up and announced; None while down (or without status)."""
        return self._status.current if self._status is not None else None

    def publish_health(self, payload: bytes) -> bool:
        """A health report, only while connected and at QoS 0: never queued for a link that is down."""
        return self._session.publish(self._telemetry_topic, payload, qos=0) if self._session.connected else False

    def stop(self) -> None:
        goodbye = self._status.goodbye() if self._status is not None else None
        if goodbye is not None and self._status is not None and self._session.connected:
            self._session.publish(self._status.topic, goodbye, retain=True, wait=GOODBYE_WAIT_S)
        self._session.stop()

    def publish_request(self, payload: bytes) -> bool:
        return self._session.publish(self._request_topic, payload)

    def tell_peers(self, permit_id: str, sequence: int, payload: bytes) -> bool:
        """One of this terminal's OFFLINE slips, retained on its own topic for its permit's other terminals."""
        topic = peer_slip_topic(self._identity.district, self._identity.terminal, permit_id, sequence)
        return self._session.publish(topic, payload, retain=True)

    def _message(self, topic: str, payload: bytes) -> None:
        if topic == self._answers:
            if self._answer_tap is not None:
                self._answer_tap(payload)
            self._on_answer(payload)
        elif topic == self._broadcast or topic.startswith(self._permits.removesuffix("#")):
            self._on_broadcast(payload)
        elif topic.startswith(self._snapshot.removesuffix("#")):
            self._on_snapshot(payload)
        elif topic.startswith(self._peers.removesuffix("#")):
            self._on_peer_slip(topic, payload)

    def _connection(self, connected: bool) -> None:
        if self._status is not None:
            if connected:
                self._session.publish(self._status.topic, self._status.born(), retain=True)
                self._session.set_will(self._status.will())
            else:
                self._status.lost()
        self._on_connection(connected)


def _before_start(*_delivered: object) -> None:
    """Nothing arrives before `start`: the session connects only then."""
