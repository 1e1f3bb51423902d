"""One MQTT v5 session for terminal or center: TCP_NODELAY, reconnect with backoff, QoS 1, resubscribe."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.faults import fault_place

log = logging.getLogger(__name__)

SESSION_EXPIRY_SECONDS = 600
KEEPALIVE_SECONDS = 15


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int


@dataclass(frozen=True)
class TlsFiles:
    """Client certificate, key and the CA that signed the broker's certificate (mutual TLS)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Will:
    """What the broker publishes (retained, QoS 1) for a client whose connection ends without a clean goodbye."""

    topic: str
    payload: bytes


MessageHandler = Callable[[str, bytes], None]
ConnectionHandler = Callable[[bool], None]


class MqttSession:
    """A paho client whose network thread only hands messages and connection changes to callbacks.

    No callback can end the network thread: whatever a handler raises is logged as an alarm and counted
    (`faults`), and the thread goes on. `alive` tells whether the thread still runs, for the watchdog."""

    def __init__(
        self,
        client_id: str,
        broker: BrokerAddress,
        subscriptions: Sequence[str],
        on_message: MessageHandler,
        on_connection: ConnectionHandler | None = None,
        tls: TlsFiles | None = None,
        session_expiry: int = SESSION_EXPIRY_SECONDS,
        will: Will | None = None,
    ) -> None:
        self._broker = broker
        self._session_expiry = session_expiry
        self._stopping = False
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._on_connection = on_connection
        self._connected = threading.Event()
        self._started = False
        self._subscribing = threading.Lock()
        self._pending_subscriptions: set[int] = set()
        self.faults = 0
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=8)
        self._client.max_inflight_messages_set(100)
        if tls is not None:
            self._client.tls_set(
                ca_certs=str(tls.ca_file),
                certfile=str(tls.cert_file),
                keyfile=str(tls.key_file),
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if will is not None:
            self.set_will(will)
        self._client.on_socket_open = self._socket_opened
        self._client.on_connect = self._connected_cb
        self._client.on_disconnect = self._disconnected_cb
        self._client.on_message = self._message_cb
        self._client.on_subscribe = self._subscribed_cb

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def alive(self) -> bool:
        """True while the network thread runs (started and not stopped); False once it has died."""
        return self._started and not self._stopping and self._client._thread is not None

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._session_expiry
        self._client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=KEEPALIVE_SECONDS,
            clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self._client.loop_start()
        self._started = True

    def wait_connected(self, timeout: float) -> bool:
        """True once connected and every subscription is acknowledged by the broker."""
        return self._connected.wait(timeout)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, wait: float | None = None,
                qos: int = 1) -> bool:
        """Queue a publish (QoS 1 unless told); False when the client refused it outright (it will be resent later).

        With `wait`, also wait that long for the broker's acknowledgement (for one-shot publishers).
        """
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if wait is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:
            info.wait_for_publish(wait)
            return info.is_published()
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def set_will(self, will: Will) -> None:
        """The will of the next connection (the broker keeps the one given at connect for the current one)."""
        self._client.will_set(will.topic, will.payload, qos=1, retain=True)

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def _socket_opened(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        if isinstance(sock, socket.socket | ssl.SSLSocket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _connected_cb(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        with self._subscribing:
            mids = (client.subscribe(topic, qos=1)[1] for topic in self._subscriptions)
            self._pending_subscriptions = {mid for mid in mids if mid is not None}
            nothing_to_wait_for = not self._pending_subscriptions
        if nothing_to_wait_for:
            self._ready()

    def _subscribed_cb(self, _client: mqtt.Client, _userdata: Any, mid: int, _reasons: Any, _properties: Any
                       ) -> None:
        """Connected counts only once the broker has acknowledged every subscription: a message published
        before then to a shared subscription with no member yet would be dropped, not delivered."""
        with self._subscribing:
            self._pending_subscriptions.discard(mid)
            done = not self._pending_subscriptions
        if done:
            self._ready()

    def _ready(self) -> None:
        self._connected.set()
        if self._on_connection is not None:
            self._on_connection(True)

    def _disconnected_cb(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected:
            if not self._stopping:
                log.warning("disconnected from broker: %s", reason)
            if self._on_connection is not None:
                self._on_connection(False)

    def _message_cb(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self._on_message(message.topic, bytes(message.payload))
        except Exception as exc:  # a handler's bug must not end the network thread: alarm and go on
            self.faults += 1
            log.error("ALARM: the message handler raised %s; the message is dropped", fault_place(exc))
