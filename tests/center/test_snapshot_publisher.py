"""The district's "already voted" snapshot publisher: its rounds (pure), and through a real mutual-TLS mosquitto a
FULL and a DELTA version from the registry reaching a terminal's link retained, older versions cleared, and a
terminal unable to publish on the snapshot's topics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from center.config import SnapshotConfig, SnapshotScope
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.snapshot_publisher import (
    IDENTITY_SUFFIX,
    PublisherState,
    Round,
    SnapshotPublisher,
    after_round,
    next_round,
)
from center.voted_snapshot import snapshot_key
from firmware_app.link import CenterLink
from firmware_app.runtime.settings import TerminalIdentity
from firmware_app.runtime.snapshots import VotedSnapshots
from protocol.messages import CommitOutcome, DocumentKind
from protocol.mqtt import MqttSession
from protocol.national_code import NationalCode
from protocol.seal import public_part
from protocol.topics import snapshot_subscription, snapshot_topic
from protocol.voted_snapshot import ChunkKind, voter_tag64
from tests.center.conftest import TlsDistrict
from tests.center.sample import ADULT, ADULT_TWO, EIGHTEEN_TODAY, ELECTION_DAY, SMALL_ROLL, VOTER_KEY

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
SETTINGS = SnapshotConfig(SnapshotScope.DISTRICT, interval_s=3600, full_every=3, tag_bits=28, lag_s=30)


# --- the rounds --------------------------------------------------------------------------------------------------

def test_the_first_version_is_full_numbered_by_its_end_and_deltas_follow_it() -> None:
    first = next_round(PublisherState(), SETTINGS, NOW)
    until = NOW - timedelta(seconds=30)
    assert first == Round(ChunkKind.FULL, int(until.timestamp()), None, until)
    state = after_round(PublisherState(), first)
    second = next_round(state, SETTINGS, NOW + timedelta(minutes=15))
    assert second == Round(ChunkKind.DELTA, first.version + 1, until, until + timedelta(minutes=15))
    state = after_round(state, second)
    third = next_round(state, SETTINGS, NOW + timedelta(minutes=30))
    assert third.chunk_kind is ChunkKind.DELTA and third.version == second.version + 1
    fourth = next_round(after_round(state, third), SETTINGS, NOW + timedelta(minutes=45))
    assert fourth.chunk_kind is ChunkKind.FULL, "one version in three is FULL"
    assert fourth.version > third.version and fourth.after is None


def test_a_clock_that_goes_back_or_a_failed_round_makes_the_next_version_full_and_higher() -> None:
    state = after_round(PublisherState(), next_round(PublisherState(), SETTINGS, NOW))
    back = next_round(state, SETTINGS, NOW - timedelta(minutes=5))
    assert back.chunk_kind is ChunkKind.FULL and back.version == state.version + 1
    failed = PublisherState(state.version, None, state.full_version, 1)
    again = next_round(failed, SETTINGS, NOW + timedelta(minutes=15))
    assert again.chunk_kind is ChunkKind.FULL and again.version > state.version


def test_versions_keep_rising_across_a_restart_of_the_publisher() -> None:
    state = PublisherState()
    versions = []
    for minute in range(0, 120, 15):
        made = next_round(state, SETTINGS, NOW + timedelta(minutes=minute))
        versions.append(made.version)
        state = after_round(state, made)
    restarted = next_round(PublisherState(), SETTINGS, NOW + timedelta(minutes=120))
    assert versions == sorted(set(versions)) and restarted.version > versions[-1]


# --- through the broker ------------------------------------------------------------------------------------------

class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SnapshotTap:
    """A terminal's link receiver that keeps only the snapshot's chunks, taken as the runtime takes them."""

    def __init__(self, snapshots: VotedSnapshots) -> None:
        self.snapshots = snapshots
        self.refusals: list[str] = []
        self.chunks = 0
        self._changed = threading.Condition()

    def answer_arrived(self, payload: bytes) -> None:
        """No request is sent."""

    def broadcast_arrived(self, payload: bytes) -> None:
        """None is published here."""

    def connection_changed(self, connected: bool) -> None:
        """Not watched."""

    def peer_slip_arrived(self, topic: str, payload: bytes) -> None:
        """No terminal is offline here."""

    def snapshot_arrived(self, payload: bytes) -> None:
        with self._changed:
            outcome = self.snapshots.take(payload)
            self.chunks += 1
            if outcome.refusal is not None:
                self.refusals.append(outcome.refusal)
            self._changed.notify_all()

    def wait_version(self, version: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: any(held.version == version for held in self.snapshots.held()), timeout)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def registry(tmp_path: Path, clock: Clock) -> Iterator[Registry]:
    opened = Registry(tmp_path / "registry.sqlite", ELECTION_DAY, clock, voter_key=VOTER_KEY)
    assert opened.load_roll(SMALL_ROLL) == len(SMALL_ROLL)
    yield opened
    opened.close()


def _committed(registry: Registry, tx_id: str, code: NationalCode, requester: Requester) -> None:
    reserved = registry.reserve(ReserveClaim(tx_id, code, DocumentKind.SMART_CARD, False, requester))
    assert isinstance(reserved, Reserved)
    assert registry.commit(tx_id, requester, reserved.inquiry_code, 0) is CommitOutcome.COMMITTED


def _publisher(tls_district: TlsDistrict, registry: Registry, signing_key: object, clock: Clock,
               instance: str = "center-1") -> SnapshotPublisher:
    identity = f"{instance}-{IDENTITY_SUFFIX}"
    publisher = SnapshotPublisher(tls_district.district, registry, tls_district.broker.center_address,
                                  tls_district.pki.center_workers.files(identity), identity, signing_key,  # type: ignore[arg-type]
                                  SETTINGS, clock)
    publisher.start()
    assert publisher.wait_connected(10)
    return publisher


def _terminal(tls_district: TlsDistrict, signing_key: object, name: str) -> tuple[CenterLink, SnapshotTap]:
    identity = TerminalIdentity(name, "branch-1", tls_district.district)
    tap = SnapshotTap(VotedSnapshots(tls_district.district, public_part(signing_key)))  # type: ignore[arg-type]
    link = CenterLink(identity, tls_district.broker.address, tls_district.terminal_tls(name))
    link.start(tap)
    assert link.wait_connected(10)
    return link, tap


@pytest.mark.real_peer
def test_a_full_and_a_delta_from_the_registry_reach_a_terminal_retained_and_the_old_ones_are_cleared(
        tls_district: TlsDistrict, registry: Registry, signing_key: object, clock: Clock) -> None:
    district = tls_district.district
    requester = Requester("t-9", "branch-9", district)
    _committed(registry, "a" * 32, ADULT, requester)
    clock.now = NOW + timedelta(minutes=1)
    publisher = _publisher(tls_district, registry, signing_key, clock)
    try:
        full = publisher.publish_round()
        assert full is not None and full.chunk_kind is ChunkKind.FULL and full.voters == 1
        _committed(registry, "b" * 32, ADULT_TWO, requester)
        clock.now = NOW + timedelta(minutes=16)
        delta = publisher.publish_round()
        assert delta is not None and delta.chunk_kind is ChunkKind.DELTA and delta.voters == 1
        assert delta.version == full.version + 1
        link, tap = _terminal(tls_district, signing_key, "t-1")
        try:
            assert tap.wait_version(delta.version), "the retained FULL and DELTA make the newest version"
            key = snapshot_key(VOTER_KEY, ELECTION_DAY)
            assert tap.snapshots.check(voter_tag64(key, ADULT)).hit
            assert tap.snapshots.check(voter_tag64(key, ADULT_TWO)).hit
            stranger = tap.snapshots.check(voter_tag64(key, EIGHTEEN_TODAY))
            assert not stranger.hit and stranger.version == delta.version
            assert tap.refusals == []
        finally:
            link.stop()
        _committed(registry, "c" * 32, EIGHTEEN_TODAY, requester)
        clock.now = NOW + timedelta(minutes=31)
        assert publisher.publish_round() is not None, "a second delta"
        clock.now = NOW + timedelta(minutes=46)
        newer = publisher.publish_round()
        assert newer is not None and newer.chunk_kind is ChunkKind.FULL and newer.voters == 3
    finally:
        publisher.stop()
    later, tap = _terminal(tls_district, signing_key, "t-2")
    try:
        assert tap.wait_version(newer.version)
        with tap._changed:
            tap._changed.wait_for(lambda: False, timeout=1.0)
        assert tap.chunks == 1, "only the newest FULL's one part is still retained"
    finally:
        later.stop()


@pytest.mark.real_peer
def test_a_restarted_publisher_clears_what_an_earlier_run_left_and_a_terminal_cannot_publish_a_version(
        tls_district: TlsDistrict, registry: Registry, signing_key: object, clock: Clock) -> None:
    district = tls_district.district
    first = _publisher(tls_district, registry, signing_key, clock)
    made = first.publish_round()
    first.stop()
    assert made is not None
    clock.now = NOW + timedelta(minutes=5)
    second = _publisher(tls_district, registry, signing_key, clock, instance="center-2")
    try:
        again = second.publish_round()
        assert again is not None and again.version > made.version
    finally:
        second.stop()
    seen: list[tuple[str, bytes]] = []
    arrived = threading.Condition()

    def kept(topic: str, payload: bytes) -> None:
        with arrived:
            seen.append((topic, payload))
            arrived.notify_all()

    terminal = MqttSession(client_id="t-3", broker=tls_district.broker.address,
                           subscriptions=[snapshot_subscription(district)], on_message=kept,
                           tls=tls_district.terminal_tls("t-3"))
    terminal.start()
    try:
        assert terminal.wait_connected(10)
        forged = snapshot_topic(district, again.version + 1, 0)
        terminal.publish(forged, b"forged\nchunk", retain=True, wait=5)
        with arrived:
            arrived.wait_for(lambda: any(topic == forged for topic, _ in seen), timeout=2)
        topics = [topic for topic, payload in seen if payload]
        assert topics == [snapshot_topic(district, again.version, 0)], topics
    finally:
        terminal.stop()
