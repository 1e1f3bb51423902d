"""The district center at work: several responders behind one MQTT shared subscription, each with its own connection."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType

from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.enroll import TERMINAL_KEYS, terminal_signing_keys
from center.registry import Clock, Registry, utc_now
from center.responder import Dropped, Responder, ResponderStatus
from center.voter_key import registry_key
from protocol.messages import NAME_PATTERN
from protocol.mqtt import MqttSession
from protocol.seal import load_key
from protocol.topics import center_request_subscription

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CenterStatus:
    """Health of the center process: connected workers and what each has done."""

    connected_workers: int
    workers: tuple[ResponderStatus, ...]


class EnrolledTerminalKeys(Mapping[str, OKPKey]):
    """The terminals' signing keys as enrolment records them in the district CA's folder. A terminal enrolled,
    or enrolled again (a replaced device), while the center runs is read at its next request: each lookup
    checks the key file's modification stamp, one stat per request."""

    def __init__(self, ca_folder: Path) -> None:
        self._folder = ca_folder / TERMINAL_KEYS
        self._keys: dict[str, tuple[int, OKPKey]] = {}

    def __getitem__(self, terminal: str) -> OKPKey:
        if not re.fullmatch(NAME_PATTERN, terminal, flags=re.ASCII):
            raise KeyError(terminal)
        path = self._folder / f"{terminal}.signing.pub.pem"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            raise KeyError(terminal) from None
        known = self._keys.get(terminal)
        if known is None or known[0] != stamp:
            known = self._keys[terminal] = (stamp, load_key(path))
        return known[1]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(terminal_signing_keys(self._folder.parent)))

    def __len__(self) -> int:
        return len(terminal_signing_keys(self._folder.parent))


class _Worker:
    """One MQTT session and one registry connection; the session's network thread does all the work."""

    def __init__(self, config: CenterConfig, index: int, responder: Responder, registry: Registry) -> None:
        self.responder = responder
        self.registry = registry
        self.session = MqttSession(
            client_id=f"{config.district}-{config.instance}-{index}",
            broker=config.broker,
            subscriptions=[center_request_subscription(config.district, config.group)],
            on_message=self._on_message,
            tls=config.tls,
            session_expiry=0,
        )

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            outcome = self.responder.handle(topic, payload)
        except sqlite3.OperationalError as exc:
            log.error("registry unavailable (%s); request on %s unanswered, the terminal will retry", exc, topic[:80])
            return
        if isinstance(outcome, Dropped):
            log.warning("request on %s dropped: %s (%s)", topic[:80], outcome.reason.value, outcome.detail)
            return
        if not self.session.publish(outcome.topic, outcome.payload):
            log.warning("answer to %s not queued; the terminal will retry", outcome.topic)


class CenterService:
    """Start, watch and stop the center's workers; every worker can answer every terminal of the district."""

    def __init__(
        self, config: CenterConfig, signing_key: OKPKey, sealing_key: OKPKey, clock: Clock = utc_now, *,
        terminal_keys: Mapping[str, OKPKey],
    ) -> None:
        """`terminal_keys`: each enrolled terminal's public signing key; requests of any other are dropped."""
        self._config = config
        self._signing_key = signing_key
        self._sealing_key = sealing_key
        self._clock = clock
        self._terminal_keys = terminal_keys
        self._workers: list[_Worker] = []

    @classmethod
    def from_config(cls, config: CenterConfig) -> CenterService:
        """Load the center's private keys, and the terminals' signing keys the district CA recorded at enrolment."""
        if config.enrolment_ca is None:
            log.warning("no enrolment folder configured: no terminal is known and every request will be dropped")
        terminal_keys: Mapping[str, OKPKey] = (
            EnrolledTerminalKeys(config.enrolment_ca) if config.enrolment_ca is not None else {}
        )
        return cls(config, load_key(config.signing_key), load_key(config.sealing_key), terminal_keys=terminal_keys)

    def start(self) -> None:
        config = self._config
        for index in range(1, config.workers + 1):
            registry = Registry(config.database, config.election_day, self._clock,
                                voter_key=registry_key(self._sealing_key))
            responder = Responder(registry, config.district, self._signing_key, self._sealing_key, self._clock,
                                  terminal_keys=self._terminal_keys,
                                  window=timedelta(seconds=config.request_window_seconds))
            worker = _Worker(config, index, responder, registry)
            self._workers.append(worker)
            worker.session.start()

    def wait_connected(self, timeout: float) -> bool:
        """True once every worker is connected and has asked for its subscription."""
        return all(worker.session.wait_connected(timeout) for worker in self._workers)

    def status(self) -> CenterStatus:
        connected = sum(1 for worker in self._workers if worker.session.connected)
        return CenterStatus(connected, tuple(worker.responder.status() for worker in self._workers))

    def stop(self) -> None:
        for worker in self._workers:
            worker.session.stop()
            worker.registry.close()
        self._workers.clear()

    def __enter__(self) -> CenterService:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
