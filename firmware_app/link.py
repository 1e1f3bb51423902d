"""The terminal's MQTT link to the district center: requests out, raw answers and broadcasts into the loop."""

from __future__ import annotations

from collections.abc import Callable

from firmware_app.runtime.settings import TerminalIdentity
from protocol.mqtt import BrokerAddress, MqttSession, TlsFiles
from protocol.topics import answer_topic, broadcast_topic, request_topic


class CenterLink:
    """Publishes on this terminal's request topic; hands every answer, unverified, to `on_answer`."""

    def __init__(
        self,
        identity: TerminalIdentity,
        broker: BrokerAddress,
        on_answer: Callable[[bytes], None],
        on_connection: Callable[[bool], None],
        on_broadcast: Callable[[bytes], None],
        tls: TlsFiles | None = None,
    ) -> None:
        self._request_topic = request_topic(identity.district, identity.terminal)
        self._answers = answer_topic(identity.district, identity.terminal)
        self._on_answer = on_answer
        self._broadcast = broadcast_topic(identity.district)
        self._on_broadcast = on_broadcast
        self._session = MqttSession(
            client_id=f"terminal-{identity.terminal}",
            broker=broker,
            subscriptions=[self._answers, self._broadcast],
            on_message=self._message,
            on_connection=on_connection,
            tls=tls,
        )

    @property
    def connected(self) -> bool:
        return self._session.connected

    def start(self) -> None:
        self._session.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._session.wait_connected(timeout)

    def stop(self) -> None:
        self._session.stop()

    def publish_request(self, payload: bytes) -> bool:
        return self._session.publish(self._request_topic, payload)

    def _message(self, topic: str, payload: bytes) -> None:
        if topic == self._answers:
            self._on_answer(payload)
        elif topic == self._broadcast:
            self._on_broadcast(payload)
