"""Minutes and closings through the district's real mutual-TLS mosquitto to the center's workers: recorded with their
hash, the same again answered alike with one row, other minutes a conflict with both kept, a request over the bound
refused, a closing answered with the branch's committed slips, and the district aggregated from what was stored."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.broker_config import MAX_PACKET_BYTES
from center.config import MinutesConfig
from center.pki import ENROLMENT_PUBLIC
from center.registry import Registry, Requester
from center.results_source import read_results
from center.service import CenterService
from protocol.codec import encode_request, minutes_hash
from protocol.messages import (
    AckOutcome,
    Answer,
    CloseAnswer,
    CommitAnswer,
    CommitOutcome,
    MinutesAnswer,
    MinutesOutcome,
    Request,
    ReserveAnswer,
)
from protocol.national_code import NationalCode
from protocol.seal import MAX_SIGNED_REQUEST_BYTES, generate_signing_key, public_part, sign_election_bundle
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.minutes_sample import ELECTION, counted, minutes, minutes_request, signed_bundle
from tests.center.probe import ProbeTerminal
from tests.center.sample import ADULT, ADULT_TWO, ELECTION_DAY, SMALL_ROLL, VOTER_KEY

pytestmark = pytest.mark.real_peer
DISTRICT_KEY = generate_signing_key()


@dataclasses.dataclass(frozen=True)
class Place:
    district: TlsDistrict
    database: Path
    center: CenterService
    terminals: dict[str, Requester]
    bundle_hash: str

    def probe(self, terminal: str, center_public: OKPKey) -> ProbeTerminal:
        return ProbeTerminal(self.district.broker.address, self.terminals[terminal], center_public,
                             self.district.terminal_tls(terminal))

    def registry(self) -> Registry:
        return Registry(self.database, ELECTION_DAY, voter_key=VOTER_KEY)


@pytest.fixture
def place(tls_district: TlsDistrict, tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey) -> Iterator[Place]:
    """The center of a district with branch-1 (two terminals) and branch-9, started with its `[minutes]` bundle."""
    district = tls_district.district
    terminals = {"t-1": Requester("t-1", "branch-1", district), "t-2": Requester("t-2", "branch-1", district),
                 "t-9": Requester("t-9", "branch-9", district)}
    database = tmp_path / "registry.sqlite"
    registry = Registry(database, ELECTION_DAY, voter_key=VOTER_KEY)
    registry.load_roll(SMALL_ROLL)
    registry.close()
    ca = tmp_path / "ca"
    for who in terminals.values():
        as_terminal.enrol(ca, who)
    (ca / ENROLMENT_PUBLIC).write_bytes(public_part(DISTRICT_KEY).as_pem(private=False))
    election = dataclasses.replace(ELECTION, district=district)
    (tmp_path / "election.jws").write_bytes(sign_election_bundle(election, DISTRICT_KEY) + b"\n")
    config = dataclasses.replace(tls_district.center_config(database, workers=2), enrolment_ca=ca,
                                 minutes=MinutesConfig(tmp_path / "election.jws"))
    service = CenterService(config, signing_key, sealing_key, enrolled=as_terminal.enrolled(terminals.values()))
    service.start()
    try:
        assert service.wait_connected(10), "the center could not reach mosquitto"
        yield Place(tls_district, database, service, terminals, signed_bundle(DISTRICT_KEY, election).hash)
    finally:
        service.stop()


def _asked(probe: ProbeTerminal, request: Request) -> Answer:
    answer = probe.ask(request)
    assert answer is not None, f"the center did not answer the {request.kind.value}"
    return answer


def _vote(probe: ProbeTerminal, voter_sealed_to: OKPKey, voter: NationalCode) -> None:
    reserve = as_terminal.reserve(probe.who, voter, voter_sealed_to)
    reserved = _asked(probe, reserve).body
    assert isinstance(reserved, ReserveAnswer) and reserved.inquiry_code is not None, reserved
    committed = _asked(probe, as_terminal.commit(probe.who, reserve.header.tx_id, reserved.inquiry_code)).body
    assert committed == CommitAnswer(CommitOutcome.COMMITTED)


def test_minutes_and_closings_through_the_broker_are_recorded_idempotently_and_aggregated(
        place: Place, signing_key: OKPKey, sealing_key: OKPKey) -> None:
    center_public, district = public_part(signing_key), place.district.district
    with place.probe("t-1", center_public) as first, place.probe("t-2", center_public) as second, \
            place.probe("t-9", center_public) as other:
        _vote(first, public_part(sealing_key), ADULT)
        _vote(second, public_part(sealing_key), ADULT_TWO)
        closed = _asked(first, as_terminal.close_polls(first.who, issued=1)).body
        assert closed == CloseAnswer(AckOutcome.ACK, branch_committed=2), "the whole branch's slips"

        counted_once = minutes(counted((1, 1, 0), 0), slips=1, bundle_hash=place.bundle_hash)
        request = minutes_request(first.who, counted_once)
        payload = as_terminal.payload(request)
        answer = _asked(first, request)
        assert answer.body == MinutesAnswer(MinutesOutcome.RECORDED, minutes_hash(counted_once))
        first.received.clear()
        first.send_raw(payload)
        again = first.wait(request, 10)
        assert again is not None and again == answer, "the same bytes must get the same signed answer"
        retry = minutes_request(first.who, counted_once, tx_id=request.header.tx_id)
        assert _asked(first, retry).body == answer.body

        differing = minutes(counted((0, 2, 0), 0), slips=1, bundle_hash=place.bundle_hash)
        conflict = _asked(first, minutes_request(first.who, differing)).body
        assert conflict == MinutesAnswer(MinutesOutcome.CONFLICT, minutes_hash(differing))

        raw = json.loads(encode_request(minutes_request(first.who, counted_once)))
        raw["body"]["minutes"]["padding"] = "x" * MAX_SIGNED_REQUEST_BYTES
        oversized = as_terminal.signed_bytes(json.dumps(raw).encode(), as_terminal.signing_key_of("t-1"))
        assert MAX_SIGNED_REQUEST_BYTES < len(oversized) < MAX_PACKET_BYTES, "within the broker's, over the center's"
        first.received.clear()
        first.send_raw(oversized)
        time.sleep(1.5)
        assert first.received == [], "a request over the bound was answered"

        clean = minutes(counted((3, 1, 0), 1), bundle_hash=place.bundle_hash)
        assert _asked(other, minutes_request(other.who, clean)).body == MinutesAnswer(MinutesOutcome.RECORDED,
                                                                                        minutes_hash(clean))
    assert place.center.alive(), "a worker's loop died"
    registry = place.registry()
    try:
        kept = [(row.requester.terminal, row.minutes_hash) for row in registry.minutes_of(district)]
        assert kept == [("t-1", minutes_hash(counted_once)), ("t-1", minutes_hash(differing)),
                        ("t-9", minutes_hash(clean))], "one row per set of minutes, both of the conflict kept"
        bundle = signed_bundle(DISTRICT_KEY, dataclasses.replace(ELECTION, district=district))
        results = read_results(registry, district, bundle, as_terminal.enrolled(place.terminals.values())).results
    finally:
        registry.close()
    agg = results.aggregate
    assert (agg.counted, agg.conflicts, agg.missing) == (("branch-9",), ("branch-1",), ())
    assert dict(agg.totals[0].votes) == {"P1": 3, "P2": 1, "P3": 0}
    assert results.committed == (("branch-1", 2), ("branch-9", 0))
    assert results.closing == (("t-1", 1),)
