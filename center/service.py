"""One center process at work: its responders behind the MQTT shared subscription, each with its own session and
registry session (center.worker_processes runs several such processes per district)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

from joserfc.jwk import OKPKey

from center.config import CenterConfig, worker_name
from center.election_bundle import BundleRefused, DistrictBundle, configured_bundle
from center.enrolled import EnrolledTerminal, EnrolledTerminals
from center.permit_book import PERMITS_FOLDER, PermitBook
from center.rate_limit import RateLimit
from center.registry import Clock, Registry, utc_now
from center.responder import Dropped, Responder, ResponderStatus
from center.storage import RegistryDatabase, RegistryUnavailableError, open_database
from center.voter_key import national_voter_key, registry_key
from protocol.mqtt import MqttSession
from protocol.seal import load_key
from protocol.topics import center_request_subscription

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CenterStatus:
    """Health of the center process: connected workers and what each has done."""

    connected_workers: int
    workers: tuple[ResponderStatus, ...]


class _Worker:
    """One MQTT session and one registry connection; the session's network thread does all the work. The
    worker's name (`<instance>-w<index>`) is its client id and the CN of its own certificate: the broker forces
    the client id to the CN, so no other center identity can take over this worker's session."""

    def __init__(self, config: CenterConfig, index: int, responder: Responder, registry: Registry) -> None:
        self.responder = responder
        self.registry = registry
        self.name = worker_name(config.instance, index)
        self.session = MqttSession(
            client_id=self.name,
            broker=config.broker,
            subscriptions=[center_request_subscription(config.district, config.group)],
            on_message=self._on_message,
            tls=None if config.tls is None else config.tls.files(self.name),
            session_expiry=0,
        )

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            outcome = self.responder.handle(topic, payload)
        except RegistryUnavailableError as exc:
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
        enrolled: Mapping[str, EnrolledTerminal], voter_key: bytes | None = None, first_worker: int = 1,
    ) -> None:
        """`enrolled`: each enrolled terminal's record (signing key, branch, district); requests of any other
        terminal, or naming another branch or district than its record, are dropped. `voter_key`: the national
        voter key (center.voter_key); None: derived from the sealing key (a district with a registry of its own).
        `first_worker`: the number of this process's first worker (its workers are `first_worker` ...
        `first_worker + config.workers - 1`), so that the worker processes of one instance have distinct names."""
        self._config = config
        self._voter_key = voter_key if voter_key is not None else registry_key(sealing_key)
        self._database: RegistryDatabase | None = None
        self._signing_key = signing_key
        self._sealing_key = sealing_key
        self._clock = clock
        self._enrolled = enrolled
        self._workers: list[_Worker] = []
        self._first_worker = first_worker

    @classmethod
    def from_config(cls, config: CenterConfig) -> CenterService:
        """Load the center's private keys, and the terminals the district CA recorded at enrolment."""
        if config.enrolment_ca is None:
            log.warning("no enrolment folder configured: no terminal is known and every request will be dropped")
        enrolled: Mapping[str, EnrolledTerminal] = (
            EnrolledTerminals(config.enrolment_ca) if config.enrolment_ca is not None else {}
        )
        voter_key = None if config.voter_key is None else national_voter_key(config.voter_key)
        return cls(config, load_key(config.signing_key), load_key(config.sealing_key), enrolled=enrolled,
                   voter_key=voter_key)

    def start(self) -> None:
        """Open the registry (for PostgreSQL, this process's pool, shared by its workers) and start the workers."""
        config = self._config
        rate = config.requests_per_terminal_second
        self._database = database = open_database(config.database)
        bundle = self._district_bundle()
        permits = (PermitBook(config.enrolment_ca / PERMITS_FOLDER, self._signing_key, self._sealing_key)
                   if config.enrolment_ca is not None else None)
        for index in range(self._first_worker, self._first_worker + config.workers):
            registry = Registry(database.session(), config.election_day, self._clock, voter_key=self._voter_key)
            responder = Responder(registry, config.district, self._signing_key, self._sealing_key, self._clock,
                                  enrolled=self._enrolled,
                                  window=timedelta(seconds=config.request_window_seconds),
                                  rate_limit=RateLimit(float(rate), burst=10 * rate),
                                  answer_quota=config.answers_per_terminal, bundle=bundle, permits=permits)
            worker = _Worker(config, index, responder, registry)
            self._workers.append(worker)
            worker.session.start()

    def _district_bundle(self) -> DistrictBundle | None:
        """`[minutes]`'s election bundle, verified with the district's enrolment key; one that does not load is logged
        and not used (minutes are then recorded without noting whether they fit it; voting goes on regardless)."""
        if self._config.minutes is None:
            return None
        loaded = configured_bundle(self._config)
        if isinstance(loaded, BundleRefused):
            log.error("the district's election bundle is not used: %s", loaded.detail)
            return None
        return loaded

    def wait_connected(self, timeout: float) -> bool:
        """True once every worker is connected and has asked for its subscription."""
        return all(worker.session.wait_connected(timeout) for worker in self._workers)

    def alive(self) -> bool:
        """True while every worker's network loop runs: the watchdog is fed only then, and the process ends
        when one has died, so that systemd starts it again."""
        return bool(self._workers) and all(worker.session.alive for worker in self._workers)

    def status(self) -> CenterStatus:
        connected = sum(1 for worker in self._workers if worker.session.connected)
        return CenterStatus(connected, tuple(worker.responder.status() for worker in self._workers))

    def stop(self) -> None:
        for worker in self._workers:
            worker.session.stop()
            worker.registry.close()
        self._workers.clear()
        if self._database is not None:
            self._database.close()
            self._database = None

    def __enter__(self) -> CenterService:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
