"""The district's "already voted" snapshot on its broker: a signed version on a schedule, FULL or DELTA, retained.

Each version's parts go retained on `vk/v1/<district>/snapshot/<version>/<part>`, so a terminal that subscribes
(or comes back) gets the latest FULL version and the deltas after it. After a FULL version the publisher clears
every older version's retained parts, its own and any a previous run left (it subscribes to its own subtree to
see them). Versions increase across restarts: a FULL version is numbered by the Unix time of its `until`, and each
DELTA is the version before it plus one, so at least 2 seconds between versions keep every number higher than all
before it. A version covers the slips committed up to `lag` before the clock, so a commit under way when it is made
is in the next one; a slip committed with an earlier time (an OFFLINE slip reconciled late) is in the next FULL.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from joserfc.jwk import OKPKey

from center.broker_config import MAX_PACKET_BYTES
from center.config import CenterConfig, SnapshotConfig, SnapshotScope
from center.registry import Clock, Registry, utc_now
from center.results_source import open_registry
from center.storage import RegistryDatabase, RegistryUnavailableError, open_database
from center.voted_snapshot import build_chunks, sign_chunks
from protocol.mqtt import BrokerAddress, MqttSession, TlsFiles
from protocol.seal import load_key
from protocol.topics import snapshot_subscription, snapshot_topic, snapshot_version_of_topic
from protocol.voted_snapshot import MAX_VERSION, ChunkKind

log = logging.getLogger(__name__)

IDENTITY_SUFFIX = "snapshot"
"""The publisher's CN on the broker is `<instance>-snapshot`, a name of its own beside the workers'."""
NATION = "nation"
"""The manifest's scope of a national snapshot; a district's is the district's name."""
PUBLISH_WAIT_S = 10.0
RETRY_S = 5.0


@dataclass(frozen=True)
class PublisherState:
    """What has been published: the last version and the commit time it covers, and the last FULL version."""

    version: int = 0
    until: datetime | None = None
    full_version: int = 0
    rounds_since_full: int = 0


@dataclass(frozen=True)
class Round:
    """The next version to make: its kind and number, and the commit times it covers, (`after`, `until`]."""

    chunk_kind: ChunkKind
    version: int
    after: datetime | None
    until: datetime


@dataclass(frozen=True)
class Published:
    """One version on the broker: its number and kind, the voters it holds, its parts and their bytes."""

    version: int
    chunk_kind: ChunkKind
    voters: int
    parts: int
    wire_bytes: int
    until: datetime


def next_round(state: PublisherState, settings: SnapshotConfig, now: datetime) -> Round:
    """A FULL version first, every `full_every` versions, and whenever the clock is not past the last version's
    end; a DELTA otherwise, following the last version."""
    until = now - timedelta(seconds=settings.lag_s)
    full = (state.until is None or state.rounds_since_full + 1 >= settings.full_every or until <= state.until)
    if full:
        version = min(max(state.version + 1, int(until.timestamp())), MAX_VERSION)
        return Round(ChunkKind.FULL, version, None, until)
    return Round(ChunkKind.DELTA, state.version + 1, state.until, until)


def after_round(state: PublisherState, made: Round) -> PublisherState:
    if made.chunk_kind is ChunkKind.FULL:
        return PublisherState(made.version, made.until, made.version, 0)
    return replace(state, version=made.version, until=made.until, rounds_since_full=state.rounds_since_full + 1)


class SnapshotPublisher:
    """Makes and publishes a version every `interval_s` on its own thread (`start`); `publish_round` makes one at
    once. A round that cannot be published whole (the broker away, the registry down) is logged, and the next
    round is a FULL version, so no terminal is left with a delta that has a hole before it."""

    def __init__(self, district: str, registry: Registry, broker: BrokerAddress, tls: TlsFiles | None,
                 identity: str, signing_key: OKPKey, settings: SnapshotConfig, clock: Clock,
                 database: RegistryDatabase | None = None) -> None:
        """`database`: the one `registry`'s session belongs to, if the publisher owns both (closed at `stop`)."""
        self._district = district
        self._database = database
        self._scope = NATION if settings.scope is SnapshotScope.NATION else district
        self._registry = registry
        self._key = signing_key
        self._settings = settings
        self._clock = clock
        self._state = PublisherState()
        self._lock = threading.Lock()
        self._round = threading.Lock()
        self._stale: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published: list[Published] = []
        """Every version published by this run, oldest first (for the operator's log and the tests)."""
        self._session = MqttSession(client_id=identity, broker=broker, subscriptions=[snapshot_subscription(district)],
                                    on_message=self._seen, tls=tls, session_expiry=0)

    @property
    def scope(self) -> str:
        return self._scope

    def start(self) -> None:
        self._session.start()
        self._thread = threading.Thread(target=self._run, name="snapshot-publisher", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._session.wait_connected(timeout)

    def alive(self) -> bool:
        return self._session.alive and self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PUBLISH_WAIT_S * 2)
        self._session.stop()
        if self._database is not None:
            self._registry.close()
            self._database.close()

    @classmethod
    def from_config(cls, config: CenterConfig) -> SnapshotPublisher | None:
        """None without `[snapshot]`. Its own registry session, its own broker identity and certificate."""
        settings = config.snapshot
        if settings is None:
            return None
        identity = f"{config.instance}-{IDENTITY_SUFFIX}"
        database = open_database(config.database)
        registry = open_registry(config, database)
        tls = None if config.tls is None else config.tls.files(identity)
        return cls(config.district, registry, config.broker, tls, identity, load_key(config.signing_key), settings,
                   utc_now, database)

    def publish_round(self) -> Published | None:
        """Make the next version and put each of its parts on the broker; None if it could not be done whole. One
        round at a time (the schedule's thread and a caller's)."""
        with self._round:
            return self._publish_round()

    def _publish_round(self) -> Published | None:
        made = next_round(self._state, self._settings, self._clock())
        district = None if self._settings.scope is SnapshotScope.NATION else self._district
        try:
            tags = self._registry.snapshot_tags(district, made.after, made.until)
        except RegistryUnavailableError as exc:
            log.error("snapshot version %d not made: the registry is unavailable (%s)", made.version, exc)
            self._state = replace(self._state, until=None)
            return None
        chunks = build_chunks(tags, scope=self._scope, chunk_kind=made.chunk_kind, version=made.version,
                              tag_bits=self._settings.tag_bits, committed_until=made.until, issued_at=self._clock())
        wire = sign_chunks(chunks, self._key)
        if max(len(part) for part in wire) > MAX_PACKET_BYTES - 1024:
            raise ValueError("a snapshot part exceeds the broker's packet limit")
        for part, payload in enumerate(wire):
            if not self._session.publish(snapshot_topic(self._district, made.version, part), payload, retain=True,
                                         wait=PUBLISH_WAIT_S):
                log.error("snapshot version %d: part %d not taken by the broker; the next version is FULL",
                          made.version, part)
                self._state = replace(self._state, until=None)
                return None
        with self._lock:
            self._state = after_round(self._state, made)
        published = Published(made.version, made.chunk_kind, len(tags), len(wire), sum(map(len, wire)), made.until)
        self.published.append(published)
        log.info("snapshot version %d (%s) published: %d voters in %d parts, %d bytes", published.version,
                 published.chunk_kind.value, published.voters, published.parts, published.wire_bytes)
        if made.chunk_kind is ChunkKind.FULL:
            self._clear_stale()
        return published

    def _run(self) -> None:
        """A version every interval; until one is out (not connected yet, or the last round failed), a try every
        few seconds."""
        while not self._stop.is_set():
            done: Published | None = None
            if self._session.connected:
                try:
                    done = self.publish_round()
                except Exception:
                    log.exception("ALARM: the snapshot publisher met a bug; it tries again at the next round")
            self._stop.wait(self._settings.interval_s if done is not None else min(RETRY_S, self._settings.interval_s))

    def _seen(self, topic: str, payload: bytes) -> None:
        """A retained part on the broker (this run's or an earlier one's): noted, and cleared once a FULL version
        replaces it."""
        version = snapshot_version_of_topic(topic)
        if version is None or not payload:
            return
        with self._lock:
            if version >= self._state.full_version:
                self._stale.add(topic)
                return
        self._session.publish(topic, b"", retain=True)

    def _clear_stale(self) -> None:
        with self._lock:
            full = self._state.full_version
            stale = {topic for topic in self._stale if (snapshot_version_of_topic(topic) or 0) < full}
            self._stale -= stale
        for topic in sorted(stale):
            self._session.publish(topic, b"", retain=True, wait=PUBLISH_WAIT_S)
