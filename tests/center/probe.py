"""A bare terminal for the center tests: publishes requests over real MQTT and collects verified answers."""

from __future__ import annotations

import queue
import secrets
import time
from types import TracebackType

from joserfc.jwk import OKPKey

from center.registry import Requester
from protocol.messages import Answer, Request
from protocol.mqtt import BrokerAddress, MqttSession, TlsFiles
from protocol.seal import open_answer
from protocol.topics import answer_topic, request_topic
from tests.center import as_terminal

RESEND_SECONDS = 0.5


class ProbeTerminal:
    """Sends a request until its answer comes (the same request each time, as a terminal retries)."""

    def __init__(self, broker: BrokerAddress, who: Requester, center_public: OKPKey, tls: TlsFiles) -> None:
        self.who = who
        self._center_public = center_public
        self._incoming: queue.Queue[bytes] = queue.Queue()
        self.received: list[Answer] = []
        self._session = MqttSession(
            client_id=f"probe-{who.terminal}-{secrets.token_hex(4)}",
            broker=broker,
            subscriptions=[answer_topic(who.district, who.terminal)],
            on_message=lambda _topic, payload: self._incoming.put(payload),
            tls=tls,
        )

    def __enter__(self) -> ProbeTerminal:
        self._session.start()
        assert self._session.wait_connected(10), "the probe terminal could not reach mosquitto"
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._session.stop()

    def send(self, request: Request) -> None:
        """Publish once, signed with the terminal's key, without waiting for the answer."""
        self.send_raw(as_terminal.payload(request))

    def send_raw(self, payload: bytes) -> None:
        """Publish these bytes on the terminal's request topic, as they are."""
        assert self._session.publish(request_topic(self.who.district, self.who.terminal), payload)

    def ask(self, request: Request, deadline_seconds: float = 10.0) -> Answer | None:
        """The verified answer to `request`, resent until answered; None when none came before the deadline."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            self.send(request)
            answer = self.wait(request, min(RESEND_SECONDS, deadline - time.monotonic()))
            if answer is not None:
                return answer
        return None

    def wait(self, request: Request, seconds: float) -> Answer | None:
        """The verified answer to `request` if it comes within `seconds`, without resending it."""
        for earlier in self.received:
            if earlier.header.request_id == request.header.request_id:
                return earlier
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            try:
                payload = self._incoming.get(timeout=left)
            except queue.Empty:
                return None
            answer = open_answer(payload, self._center_public)
            assert isinstance(answer, Answer), f"the center sent an answer that does not verify: {answer}"
            self.received.append(answer)
            if answer.header.request_id == request.header.request_id:
                return answer
        return None
