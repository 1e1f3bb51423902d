"""Raw paho clients for the TLS tests: connection outcome, SUBACK and PUBACK reason codes, messages received."""

from __future__ import annotations

import queue
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.mqtt import BrokerAddress, TlsFiles

WAIT = 10.0


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes


def _client(name: str) -> mqtt.Client:
    return mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)


def connection_outcome(broker: BrokerAddress, ca_file: Path, tls: TlsFiles | None, *, plain: bool = False) -> str:
    """'connected', or how the broker turned the client away (TLS handshake, closed socket, CONNACK code)."""
    client = _client("probe-connect")
    if not plain:
        if tls is None:
            client.tls_set(ca_certs=str(ca_file))
        else:
            client.tls_set(ca_certs=str(ca_file), certfile=str(tls.cert_file), keyfile=str(tls.key_file))
    reasons: list[Any] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: reasons.append(reason)
    try:
        client.connect(broker.host, broker.port, keepalive=5)
        deadline = time.monotonic() + WAIT
        while not reasons and time.monotonic() < deadline:
            code = client.loop(timeout=0.2)
            if code != mqtt.MQTT_ERR_SUCCESS:
                return f"closed: {mqtt.error_string(code)}"
    except (ssl.SSLError, OSError) as exc:
        return f"handshake: {exc}"
    finally:
        client.disconnect()
    if not reasons:
        return "no CONNACK"
    return "connected" if not reasons[0].is_failure else f"CONNACK: {reasons[0]}"


class RawTerminal:
    """A connected TLS client that reports the broker's answer to each SUBSCRIBE and PUBLISH."""

    def __init__(self, broker: BrokerAddress, tls: TlsFiles, name: str) -> None:
        self.messages: queue.Queue[Received] = queue.Queue()
        self.disconnects = 0
        self._acks: dict[int, Any] = {}
        self._changed = threading.Condition()
        self._client = _client(name)
        self._client.tls_set(ca_certs=str(tls.ca_file), certfile=str(tls.cert_file), keyfile=str(tls.key_file))
        self._client.on_subscribe = self._subscribed
        self._client.on_publish = self._published
        self._client.on_message = lambda _c, _u, m: self.messages.put(Received(m.topic, bytes(m.payload)))
        self._client.on_disconnect = self._disconnected
        connected = threading.Event()
        self._client.on_connect = lambda _c, _u, _f, reason, _p: connected.set() if not reason.is_failure else None
        self._client.connect(broker.host, broker.port, keepalive=15)
        self._client.loop_start()
        assert connected.wait(WAIT), f"{name} was not admitted by the broker"

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def subscribe(self, topic: str) -> str:
        """The SUBACK reason for this filter."""
        _rc, mid = self._client.subscribe(topic, qos=1)
        assert mid is not None
        return str(self._ack(mid)[0])

    def publish(self, topic: str, payload: bytes) -> str:
        """The PUBACK reason: 'Success', or why the broker refused it (e.g. 'Not authorized')."""
        info = self._client.publish(topic, payload, qos=1)
        return str(self._ack(info.mid))

    def drain(self) -> list[Received]:
        found: list[Received] = []
        while not self.messages.empty():
            found.append(self.messages.get_nowait())
        return found

    def _ack(self, mid: int) -> Any:
        deadline = time.monotonic() + WAIT
        with self._changed:
            while mid not in self._acks:
                left = deadline - time.monotonic()
                assert left > 0, f"no acknowledgement for message {mid}"
                self._changed.wait(left)
            return self._acks.pop(mid)

    def _disconnected(self, _c: mqtt.Client, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        self.disconnects += 1

    def _subscribed(self, _c: mqtt.Client, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        with self._changed:
            self._acks[mid] = reasons
            self._changed.notify_all()

    def _published(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self._changed:
            self._acks[mid] = reason
            self._changed.notify_all()
