"""Over mutual TLS with the project's ACL: each terminal reaches only its own subtree; the center serves all."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from center.config import CenterConfig, worker_name
from center.enrolled import EnrolledTerminals
from center.registry import Registry, Requester
from center.service import CenterService
from center.voter_key import registry_key
from protocol.messages import Answer, Request, ReserveAnswer, ReserveOutcome
from protocol.seal import open_answer, public_part
from protocol.topics import answer_topic, broadcast_topic, request_topic
from provisioning.installed import Installation
from tests.center import as_terminal
from tests.center.sample import ADULT, ELECTION_DAY, SMALL_ROLL, code
from tests.security.clients import WAIT, RawTerminal, Received
from tests.security.conftest import DISTRICT, InstalledMaker, SecureDistrict, TerminalMaker, terminal_name

pytestmark = pytest.mark.real_peer

DENIED = "Not authorized"


@dataclass(frozen=True)
class RunningCenter:
    service: CenterService
    database: Path
    voter_key: bytes


@pytest.fixture
def center(secure_district: SecureDistrict, tmp_path: Path) -> Iterator[RunningCenter]:
    """The real center with its own certificate, two workers behind the district's secret share group."""
    database = tmp_path / "registry.sqlite"
    registry = Registry(database, ELECTION_DAY, voter_key=registry_key(secure_district.sealing_key))
    registry.load_roll(SMALL_ROLL)
    registry.close()
    config = CenterConfig(DISTRICT, "center-1", ELECTION_DAY, database, tmp_path / "unused-signing.pem",
                          tmp_path / "unused-sealing.pem", secure_district.broker.center_address,
                          secure_district.pki.center_workers, 2, secure_district.pki.group)
    service = CenterService(config, secure_district.signing_key, secure_district.sealing_key,
                            enrolled=EnrolledTerminals(secure_district.pki.ca.folder))
    service.start()
    try:
        assert service.wait_connected(10), "the center could not connect over mutual TLS"
        yield RunningCenter(service, database, registry_key(secure_district.sealing_key))
    finally:
        service.stop()


class Terminal:
    """A provisioned terminal on a raw client: its own requests and answers, and whatever else it is sent."""

    def __init__(self, district: SecureDistrict, installation: Installation, name: str) -> None:
        tls = installation.tls
        self._signing_key = installation.signing_key
        self.who = Requester(name, f"B-{name}", DISTRICT)
        self.raw = RawTerminal(district.broker.address, tls, name)
        self._center_public = public_part(district.signing_key)
        self._sealing_public = public_part(district.sealing_key)
        assert self.raw.subscribe(answer_topic(DISTRICT, name)) == "Granted QoS 1"

    def reserve(self, nine_digits_voter: str | None = None) -> Request:
        voter = code(nine_digits_voter) if nine_digits_voter else ADULT
        return as_terminal.reserve(self.who, voter, self._sealing_public)

    def ask(self, request: Request) -> tuple[Answer, list[Received]]:
        """Publish on its own topic; the verified answer, and every message that arrived before it."""
        assert self.raw.publish(request_topic(DISTRICT, self.who.terminal), as_terminal.payload(request, self._signing_key)) == "Success"
        before: list[Received] = []
        while True:
            try:
                message = self.raw.messages.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"{self.who.terminal}: no answer from the center") from None
            answer = open_answer(message.payload, self._center_public)
            if isinstance(answer, Answer) and answer.header.request_id == request.header.request_id:
                return answer, before
            before.append(message)


@pytest.fixture
def pair(secure_district: SecureDistrict, installed: InstalledMaker) -> Iterator[tuple[Terminal, Terminal]]:
    names = terminal_name(), terminal_name()
    made = [Terminal(secure_district, installed(name), name) for name in names]
    yield made[0], made[1]
    for terminal in made:
        terminal.raw.close()


def _served(center: RunningCenter) -> tuple[int, int]:
    status = center.service.status()
    return sum(w.answered for w in status.workers), sum(w.dropped for w in status.workers)


def test_the_center_identity_serves_every_terminal_through_the_shared_subscription(
    center: RunningCenter, pair: tuple[Terminal, Terminal]
) -> None:
    a, b = pair
    for terminal, voter in ((a, "001234567"), (b, "002345678")):
        answer, _ = terminal.ask(terminal.reserve(voter))
        assert isinstance(answer.body, ReserveAnswer) and answer.body.outcome is ReserveOutcome.ELIGIBLE, answer
    assert _served(center) == (2, 0)


def test_a_terminal_cannot_publish_on_another_terminals_request_topic(
    center: RunningCenter, pair: tuple[Terminal, Terminal]
) -> None:
    a, b = pair
    forged = b.reserve()
    assert a.raw.publish(request_topic(DISTRICT, b.who.terminal), as_terminal.payload(forged, a._signing_key)) == DENIED
    answer, earlier = b.ask(b.reserve("002345678"))
    assert isinstance(answer.body, ReserveAnswer) and answer.body.outcome is ReserveOutcome.ELIGIBLE
    assert earlier == [], f"{b.who.terminal} was sent something for the forged request: {earlier}"
    assert _served(center) == (1, 0), "the center saw the request A published as B"
    registry = Registry(center.database, ELECTION_DAY, voter_key=center.voter_key)
    try:
        assert all(r.tx_id != forged.header.tx_id for r in registry.reservations()), "the forged tx was reserved"
    finally:
        registry.close()


def test_a_terminal_subscribed_to_another_terminals_answers_receives_nothing(
    center: RunningCenter, pair: tuple[Terminal, Terminal]
) -> None:
    a, b = pair
    for stolen in (answer_topic(DISTRICT, b.who.terminal), f"vk/v1/{DISTRICT}/+/resp", "#"):
        assert a.raw.subscribe(stolen) == "Granted QoS 1", "mosquitto 2.0 grants and filters at delivery"
    b.ask(b.reserve("002345678"))
    _own, before_own = a.ask(a.reserve("001234567"))
    assert before_own == [], f"A received B's traffic: {before_own}"
    own_topic = answer_topic(DISTRICT, a.who.terminal)
    others = [m for m in a.raw.drain() if m.topic != own_topic]  # overlapping filters repeat A's own answer
    assert others == [], f"A received B's traffic: {others}"


def test_a_terminal_cannot_forge_answers_or_broadcasts(center: RunningCenter, pair: tuple[Terminal, Terminal]) -> None:
    a, b = pair
    assert a.raw.publish(answer_topic(DISTRICT, b.who.terminal), b"forged answer") == DENIED
    assert a.raw.publish(broadcast_topic(DISTRICT), b"polls extended to 04:00") == DENIED
    _answer, earlier = b.ask(b.reserve("002345678"))
    assert earlier == [], f"B received A's forgery: {earlier}"
    assert _served(center) == (1, 0)


def test_a_terminal_joining_the_default_share_group_takes_no_requests(
    center: RunningCenter, pair: tuple[Terminal, Terminal]
) -> None:
    a, b = pair
    assert a.raw.subscribe(f"$share/center/vk/v1/{DISTRICT}/+/req") == "Granted QoS 1"
    voters = ["001234567", "002345678", "005678912", "006789123"]
    requests = [b.reserve(voter) for voter in voters]
    for request in requests:
        answer, _ = b.ask(request)
        assert isinstance(answer.body, ReserveAnswer), answer
    assert _served(center) == (len(voters), 0), "the center did not get every request"
    assert a.raw.drain() == []



def test_a_terminal_using_another_terminals_client_id_does_not_take_over_its_session(
    secure_district: SecureDistrict, center: RunningCenter, pair: tuple[Terminal, Terminal], provisioned: TerminalMaker
) -> None:
    a, b = pair
    impostor_name = terminal_name()
    impostor = RawTerminal(secure_district.broker.address, provisioned(impostor_name), b.who.terminal)
    try:
        answer, _ = b.ask(b.reserve("002345678"))
        assert isinstance(answer.body, ReserveAnswer)
        assert b.raw.disconnects == 0, "the impostor's CONNECT with B's client id threw B off the broker"
    finally:
        impostor.close()
    assert a.raw.disconnects == 0


def test_a_terminal_naming_another_branch_than_it_was_enrolled_for_is_refused_and_nothing_is_recorded(
    center: RunningCenter, pair: tuple[Terminal, Terminal]
) -> None:
    a, b = pair
    elsewhere = Requester(a.who.terminal, b.who.branch, DISTRICT)
    request = as_terminal.reserve(elsewhere, ADULT, a._sealing_public)
    payload = as_terminal.payload(request, a._signing_key)
    assert a.raw.publish(request_topic(DISTRICT, a.who.terminal), payload) == "Success"
    deadline = time.monotonic() + WAIT
    while _served(center) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _served(center) == (0, 1), "the center did not drop the request naming another branch"
    assert a.raw.drain() == [], "the center answered a request naming a branch the terminal does not serve"
    registry = Registry(center.database, ELECTION_DAY, voter_key=center.voter_key)
    try:
        assert registry.reservations() == [], "a reservation was recorded for another branch"
        assert registry.poll_events(DISTRICT, a.who.terminal) == []
        assert registry.answered_count(DISTRICT, a.who.terminal) == 0
    finally:
        registry.close()


def test_an_insider_using_a_center_workers_client_id_does_not_take_over_its_session(
    secure_district: SecureDistrict, center: RunningCenter, pair: tuple[Terminal, Terminal],
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, _b = pair
    workers = [worker_name("center-1", index) for index in (1, 2)]
    names = [_common_name(secure_district.pki.center_workers.files(worker).cert_file) for worker in workers]
    assert names == workers, f"each worker must connect with a certificate of its own name: {names}"
    caplog.set_level(logging.WARNING, logger="protocol.mqtt")
    insider = RawTerminal(secure_district.broker.center_address, secure_district.pki.center_tls, workers[0])
    try:
        before = [worker.answered for worker in center.service.status().workers]
        for voter in ("001234567", "002345678", "005678912", "006789123"):
            answer, _ = a.ask(a.reserve(voter))
            assert isinstance(answer.body, ReserveAnswer), answer
        after = [worker.answered for worker in center.service.status().workers]
        assert all(now > then for now, then in zip(after, before, strict=True)), f"a worker stopped answering: {after}"
        assert center.service.status().connected_workers == 2
        assert insider.disconnects == 0, "the insider and a worker were given one client id"
    finally:
        insider.close()
    lost = [r.getMessage() for r in caplog.records if "disconnected from broker" in r.getMessage()]
    assert lost == [], f"the insider's CONNECT with {workers[0]}'s client id threw the worker off: {lost}"


def _common_name(cert_file: Path) -> str:
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
