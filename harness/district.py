"""A virtual district: center keys, a real mosquitto, a synthetic roll, the day's elections and the real center
service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from joserfc.jwk import OKPKey

from center.broadcast import publish_extension
from center.config import CenterConfig, MinutesConfig, SnapshotConfig, SnapshotScope
from center.eligibility import VoterRecord
from center.enroll import CenterKeys as EnrolmentKeys
from center.enroll import EnrolRefusal, sign_election
from center.enrolled import EnrolledTerminals, permit_keys
from center.permit_book import PERMITS_FOLDER, PermitBook
from center.permits import IssuedPermit, broadcast_activation, issue_permit
from center.registry import Registry, ReservationState, utc_now
from center.roll import RollRefused
from center.service import CenterService
from center.snapshot_publisher import IDENTITY_SUFFIX as SNAPSHOT_IDENTITY_SUFFIX
from center.snapshot_publisher import Published, SnapshotPublisher
from center.storage import RegistryDatabase, RegistryLocation, open_database
from center.synthetic_roll import generate_roll
from center.voted_snapshot import snapshot_key
from center.voter_key import registry_key
from harness.broker import Broker
from harness.card.pki import make_pki
from harness.election import day_election
from harness.pki import make_district_pki, provision_terminal
from protocol.messages import CountingInstructions
from protocol.minutes import ElectionBundle
from protocol.mqtt import MqttSession
from protocol.permit import ActivationPath, Permit
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, sign_counting_instructions
from protocol.topics import broadcast_topic, permit_topic
from provisioning.installed import Installation

SNAPSHOT_SETTINGS = SnapshotConfig(SnapshotScope.DISTRICT, interval_s=86_400, full_every=8, tag_bits=32, lag_s=0)
"""The virtual district's snapshot: its first version at start, then each when the caller asks."""


@dataclass(frozen=True)
class CenterKeys:
    signing: OKPKey
    sealing: OKPKey

    @property
    def signing_public(self) -> OKPKey:
        return public_part(self.signing)

    @property
    def sealing_public(self) -> OKPKey:
        return public_part(self.sealing)


class VirtualDistrict:
    """A district PKI, a mutual-TLS broker, a roll and the center; terminals are provisioned through the real
    enrolment path and talk only over TLS. The center can be stopped and started to play an outage."""

    def __init__(self, work_dir: Path, district: str, election_day: date, voters: int, seed: int,
                 workers: int = 1, csca_pem: bytes | None = None, *, registry: RegistryLocation | None = None,
                 voter_key: bytes | None = None, load_roll: bool = True, council: bool = False) -> None:
        """`registry`: where the registry lives (None: an SQLite file of this district's own); several districts
        given one PostgreSQL share the national registry, and then must share `voter_key` (None: derived from
        this district's sealing key) and load the roll once (`load_roll` in one of them; the others, given the
        same `voters` and `seed`, know the same roll). The day's elections: the presidential, and the city
        council too with `council`."""
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir = work_dir
        self.district = district
        self.election_day = election_day
        self.election: ElectionBundle = day_election(district, council=council)
        """What the district's branches count for; signed into every terminal's provisioning folder."""
        self.keys = CenterKeys(generate_signing_key(), generate_sealing_key())
        anchors = csca_pem if csca_pem is not None else make_pki().csca_pem()
        self.pki = make_district_pki(work_dir / "pki", district,
                                     EnrolmentKeys(self.keys.signing_public, self.keys.sealing_public), anchors)
        self.broker = Broker(work_dir / "broker", tls=self.pki.broker_tls)
        self.roll: list[VoterRecord] = generate_roll(voters, seed, election_day)
        self.database = work_dir / "registry.db"
        """The district's own SQLite registry file (unused when the district is given a registry)."""
        self.registry_location: RegistryLocation = registry if registry is not None else self.database
        self.voter_key = voter_key if voter_key is not None else registry_key(self.keys.sealing)
        self._inspection: RegistryDatabase | None = None
        if load_roll:
            setup = self.registry()
            try:
                loaded = setup.load_roll(self.roll)
            finally:
                setup.close()
            if isinstance(loaded, RollRefused):
                raise RuntimeError(f"the roll of {district} did not load: {loaded.problems}")
        signed = sign_election(self.pki.ca, self.election)
        if isinstance(signed, EnrolRefusal):
            raise RuntimeError(f"the election bundle of {district} was not signed: {signed}")
        self.election_file = work_dir / "election.jws"
        """The day's election bundle as the district signed it (what every terminal's folder holds)."""
        self.election_file.write_bytes(signed + b"\n")
        self._config = CenterConfig(
            district=district, instance="center-1", election_day=election_day, database=self.registry_location,
            signing_key=work_dir / "unused-signing.pem", sealing_key=work_dir / "unused-sealing.pem",
            broker=self.broker.center_address, tls=self.pki.center_workers, workers=workers, group=self.pki.group,
            enrolment_ca=self.pki.ca.folder, minutes=MinutesConfig(self.election_file),
        )
        self.enrolled = EnrolledTerminals(self.pki.ca.folder)
        """What enrolment recorded in the CA folder; the center reads a new terminal's record at its first request."""
        self.center: CenterService | None = None
        self.snapshots: SnapshotPublisher | None = None
        """The district's "already voted" snapshot publisher (from `start`); the demo makes each version itself."""
        self.permits = PermitBook(self.pki.ca.folder / PERMITS_FOLDER, self.keys.signing, self.keys.sealing)
        """The district's permits on file, as `kiosk-center permit issue` keeps them (the center replays against it)."""

    @property
    def config(self) -> CenterConfig:
        """The district center's configuration (its instance, registry, broker listener and certificates)."""
        return self._config

    def provision(self, terminal: str, branch: str, folder: Path) -> Installation:
        """The terminal's whole enrolment: keys made on the device, certificate, signed bundle and the day's signed
        election bundle, installed."""
        return provision_terminal(self.pki, folder, terminal, branch, election=self.election)

    def center_session(self, name: str, subscriptions: list[str],
                       on_message: Callable[[str, bytes], None]) -> MqttSession:
        """An MQTT session with the center tool's certificate on the center's listener (an insider's position);
        the broker forces its client id to that certificate's CN, whatever `name` asks for."""
        return MqttSession(name, self.broker.center_address, subscriptions, on_message, tls=self.pki.center_tls)
    def start(self) -> None:
        self.broker.start()
        self.start_center()
        self._start_snapshots()

    def _start_snapshots(self) -> None:
        identity = f"{self._config.instance}-{SNAPSHOT_IDENTITY_SUFFIX}"
        database = open_database(self.registry_location)
        registry = Registry(database.session(), self.election_day, voter_key=self.voter_key)
        self.snapshots = SnapshotPublisher(self.district, registry, self.broker.center_address,
                                           self.pki.center_workers.files(identity), identity, self.keys.signing,
                                           SNAPSHOT_SETTINGS, utc_now, database)
        self.snapshots.start()
        if not self.snapshots.wait_connected(10):
            raise RuntimeError("the snapshot publisher could not reach the broker")

    def publish_snapshot(self) -> Published:
        """A new version of the "already voted" snapshot now (the publisher's own schedule is a day)."""
        if self.snapshots is None:
            raise RuntimeError("the district is not started")
        published = self.snapshots.publish_round()
        if published is None:
            raise RuntimeError("the snapshot version was not published")
        return published

    def issue_permit(self, branch: str, terminals: list[str], until: datetime, max_slips: int) -> IssuedPermit:
        """A permit for the branch's `terminals` from now to `until`, as `kiosk-center permit issue --publish` makes
        it: kept in the district's book, and published retained on the branch's permit topic."""
        keys = permit_keys(self.enrolled, terminals, branch)
        if isinstance(keys, str):
            raise RuntimeError(f"no permit for {branch}: {keys}")
        now = datetime.now(UTC)
        issued = issue_permit(district=self.district, branch=branch, terminals=keys, not_before=now,
                              not_after=until, max_slips=max_slips, activations=3, paths=list(ActivationPath),
                              snapshot_key=snapshot_key(self.voter_key, self.election_day),
                              district_key=self.keys.signing, now=now)
        self.permits.add(issued)
        self._publish_permit(issued.permit, "permit", issued.signed)
        return issued

    def activate_permit(self, issued: IssuedPermit, activation: int, life: timedelta) -> None:
        """Activation `activation` broadcast to the branch (`kiosk-center permit activate`)."""
        signed = broadcast_activation(issued.permit, activation, self.keys.signing, datetime.now(UTC), life)
        self._publish_permit(issued.permit, "activation", signed)

    def _publish_permit(self, permit: Permit, kind: str, payload: bytes) -> None:
        with self.publisher(f"{self.district}-permits") as session:
            if not session.publish(permit_topic(self.district, permit.branch, permit.permit_id, kind), payload,
                                   retain=True, wait=10):
                raise RuntimeError(f"the broker did not take the permit's {kind}")

    def start_center(self) -> None:
        self.center = CenterService(self._config, self.keys.signing, self.keys.sealing,
                                    enrolled=self.enrolled, voter_key=self.voter_key)
        self.center.start()
        if not self.center.wait_connected(10):
            raise RuntimeError("the center could not reach the broker")

    def stop_center(self) -> None:
        if self.center is not None:
            self.center.stop()
            self.center = None

    def stop(self) -> None:
        if self.snapshots is not None:
            self.snapshots.stop()
            self.snapshots = None
        self.stop_center()
        self.broker.stop()
        if self._inspection is not None:
            self._inspection.close()
            self._inspection = None

    @contextmanager
    def publisher(self, name: str) -> Iterator[MqttSession]:
        """A connected session with the center's credentials, for a few publishes, closed afterwards."""
        session = self.center_session(name, [], lambda _t, _p: None)
        session.start()
        try:
            if not session.wait_connected(10):
                raise RuntimeError(f"{name} could not reach the broker")
            yield session
        finally:
            session.stop()

    def broadcast_extension(self, closes_at: datetime) -> None:
        """The center tells every terminal of the district that the polls close later (signed, retained)."""
        with self.publisher(f"{self.district}-broadcaster") as session:
            publish_extension(session, self.district, closes_at, self.keys.signing, datetime.now(UTC))

    def broadcast_instructions(self, title: str, text: str, issued_at: datetime | None = None) -> None:
        """The center's counting instructions to every terminal of the district (signed, retained)."""
        instructions = CountingInstructions(self.district, title, text, issued_at or datetime.now(UTC))
        with self.publisher(f"{self.district}-broadcaster") as session:
            session.publish(broadcast_topic(self.district), sign_counting_instructions(instructions, self.keys.signing),
                            retain=True, wait=10)

    def clear_broadcast(self) -> None:
        """Remove the retained broadcast (an empty retained message clears it on the broker)."""
        with self.publisher(f"{self.district}-broadcaster") as session:
            session.publish(broadcast_topic(self.district), b"", retain=True, wait=10)

    def registry(self) -> Registry:
        """A registry session of the district's own (for set-up and inspection), apart from the center's."""
        if self._inspection is None:
            self._inspection = open_database(self.registry_location)
        return Registry(self._inspection.session(), self.election_day, voter_key=self.voter_key)

    def reservations_of(self, terminal: str) -> list[tuple[str | None, ReservationState]]:
        """The inquiry code and state of each reservation of this district's `terminal`, as the registry holds
        them (terminal names are unique only within a district)."""
        registry = self.registry()
        try:
            return [(r.inquiry_code, r.state) for r in registry.reservations()
                    if (r.district, r.terminal) == (self.district, terminal)]
        finally:
            registry.close()
