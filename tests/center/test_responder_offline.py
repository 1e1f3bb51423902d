"""The responder replays OFFLINE slips: a record that holds is recorded (its permit's faults with it) and answered
with the outcome; one that does not hold is REJECTED with nothing kept; a replay of any age is answered, the same
request again gets the same answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from stdnum import verhoeff

from center.permit_book import PermitBook
from center.permits import end_permit
from center.reconcile import PermitFault, ReconcileOutcome
from center.registry import Registry, Requester, ReserveClaim, Reserved
from center.responder import Dropped, DropReason, Reply, Responder
from center.storage import RegistryDatabase
from protocol.codec import MAX_MESSAGE_BYTES, encode_request
from protocol.messages import (
    MAX_OFFLINE_RECORD_CHARS,
    Answer,
    DocumentKind,
    OfflineIssueAnswer,
    OfflineIssueBody,
    OfflineOutcome,
    Request,
)
from protocol.offline_code import OfflineIssue
from protocol.permit import MAX_ACTIVATIONS, MAX_OFFLINE_SLIPS
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_answer,
    public_part,
    seal_national_code,
)
from tests.center import as_terminal
from tests.center.offline_sample import OUTAGE, PermitSample, permit_sample, signed
from tests.center.sample import ADULT, ADULT_TWO, BRANCH_A, BRANCH_A_SECOND, BRANCH_B, ELECTION_DAY, VOTER_KEY

CENTER_TIME = datetime.now(UTC).replace(microsecond=0)
ENROLLED = as_terminal.enrolled([BRANCH_A, BRANCH_A_SECOND, BRANCH_B])


@dataclasses.dataclass
class Center:
    responder: Responder
    registry: Registry
    book: PermitBook
    sample: PermitSample
    signing_key: OKPKey


@pytest.fixture
def center(registry_database: RegistryDatabase, signing_key: OKPKey, sealing_key: OKPKey,
           tmp_path: Path) -> Iterator[Center]:
    sample = permit_sample()
    book = PermitBook(tmp_path / "permits", sample.district_key, sealing_key)
    book.add(sample.issued)
    registry = Registry(registry_database.session(), ELECTION_DAY, clock=lambda: CENTER_TIME, voter_key=VOTER_KEY)
    responder = Responder(registry, BRANCH_A.district, signing_key, sealing_key, clock=lambda: CENTER_TIME,
                          enrolled=ENROLLED, permits=book)
    yield Center(responder, registry, book, sample, signing_key)
    registry.close()


def _replay_request(issue: OfflineIssue, record: bytes | None = None, sent_at: datetime | None = None) -> Request:
    who = Requester(issue.terminal, issue.branch, issue.district)
    return as_terminal.request(who, OfflineIssueBody((record or signed(issue)).decode("ascii")), sent_at=sent_at)


def _answer(center: Center, request: Request) -> OfflineIssueAnswer:
    who = Requester(request.header.terminal, request.header.branch, request.header.district)
    reply = center.responder.handle(as_terminal.topic_of(who), as_terminal.payload(request))
    assert isinstance(reply, Reply), f"expected an answer, got {reply}"
    opened = open_answer(reply.payload, public_part(center.signing_key))
    assert isinstance(opened, Answer) and isinstance(opened.body, OfflineIssueAnswer)
    return opened.body


def test_a_replayed_slip_is_issued_without_faults_under_its_permit_on_file(center: Center) -> None:
    issue = center.sample.issue(BRANCH_A, 1, ADULT)
    answer = _answer(center, _replay_request(issue))
    assert answer == OfflineIssueAnswer(OfflineOutcome.ISSUED, issue.offline_code, None)
    [record] = center.registry.offline_slips_of(BRANCH_A.district)
    assert record.outcome is ReconcileOutcome.ISSUED and record.faults == ()


def test_a_replay_after_an_outage_of_any_length_is_answered(center: Center) -> None:
    issue = center.sample.issue(BRANCH_A, 1, ADULT)
    late = _replay_request(issue, sent_at=CENTER_TIME - timedelta(days=2))
    assert _answer(center, late).outcome is OfflineOutcome.ISSUED


def test_the_same_request_again_gets_the_same_answer_and_another_request_of_the_record_too(center: Center) -> None:
    issue = center.sample.issue(BRANCH_A, 1, ADULT)
    request = _replay_request(issue)
    first = _answer(center, request)
    assert _answer(center, request) == first
    assert _answer(center, _replay_request(issue)) == first, "a new request of the same record: the same outcome"
    assert len(center.registry.offline_slips_of(BRANCH_A.district)) == 1


def test_a_voter_who_voted_online_is_answered_double_vote_and_kept(center: Center) -> None:
    online = center.registry.reserve(ReserveClaim("a" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert isinstance(online, Reserved)
    center.registry.commit("a" * 32, BRANCH_B, online.inquiry_code, 0)
    answer = _answer(center, _replay_request(center.sample.issue(BRANCH_A, 1, ADULT)))
    assert answer.outcome is OfflineOutcome.DOUBLE_VOTE
    [record] = center.registry.offline_slips_of(BRANCH_A.district)
    assert record.other is not None and record.other.inquiry_code == online.inquiry_code


def test_a_voter_held_by_an_unsettled_reservation_gets_no_answer_yet(center: Center) -> None:
    held = center.registry.reserve(ReserveClaim("f" * 32, ADULT, DocumentKind.SMART_CARD, False, BRANCH_B))
    assert isinstance(held, Reserved)
    request = _replay_request(center.sample.issue(BRANCH_A, 1, ADULT))
    dropped = center.responder.handle(as_terminal.topic_of(BRANCH_A), as_terminal.payload(request))
    assert isinstance(dropped, Dropped) and dropped.reason is DropReason.IN_FLIGHT
    assert center.registry.offline_slips_of(BRANCH_A.district) == []


def test_a_slip_under_a_permit_the_district_never_issued_is_recorded_with_that_fault(center: Center) -> None:
    stranger = permit_sample(district_key=center.sample.district_key)
    answer = _answer(center, _replay_request(stranger.issue(BRANCH_A, 1, ADULT)))
    assert answer.outcome is OfflineOutcome.ISSUED
    [record] = center.registry.offline_slips_of(BRANCH_A.district)
    assert record.faults == (PermitFault.UNKNOWN_PERMIT,)


def test_a_slip_after_the_permits_end_is_recorded_with_that_fault(center: Center) -> None:
    end = end_permit(center.sample.issued.permit, center.sample.district_key, OUTAGE + timedelta(minutes=5),
                     OUTAGE + timedelta(minutes=5))
    center.book.end(center.sample.permit_id, end)
    answer = _answer(center, _replay_request(center.sample.issue(BRANCH_A, 1, ADULT, minutes=10)))
    assert answer.outcome is OfflineOutcome.ISSUED
    [record] = center.registry.offline_slips_of(BRANCH_A.district)
    assert record.faults == (PermitFault.AFTER_END,)


def test_a_forged_offline_code_is_recorded_as_forged(center: Center) -> None:
    issue = center.sample.issue(BRANCH_A, 1, ADULT)
    slot_and_sequence, tag = issue.offline_code[:6], issue.offline_code[6:10]
    forged_code = slot_and_sequence + f"{(int(tag) + 1) % 10_000:04d}"
    forged = dataclasses.replace(issue, offline_code=forged_code + verhoeff.calc_check_digit(forged_code))
    _answer(center, _replay_request(forged))
    [record] = center.registry.offline_slips_of(BRANCH_A.district)
    assert PermitFault.FORGED_CODE in record.faults


@pytest.mark.parametrize("case", ["forged_signature", "other_terminal", "bad_seal", "code_sequence"])
def test_a_record_that_does_not_hold_is_rejected_and_nothing_is_kept(center: Center, case: str) -> None:
    issue = center.sample.issue(BRANCH_A, 1, ADULT)
    record = signed(issue)
    if case == "forged_signature":
        record = signed(issue, generate_signing_key())
    elif case == "other_terminal":
        record = signed(dataclasses.replace(issue, terminal=BRANCH_A_SECOND.terminal), as_terminal.signing_key_of(
            BRANCH_A.terminal))
    elif case == "bad_seal":
        record = signed(dataclasses.replace(issue, sealed_voter=seal_national_code(
            ADULT_TWO, public_part(generate_sealing_key()))))
    else:
        record = signed(dataclasses.replace(issue, sequence=2))
    answer = _answer(center, _replay_request(issue, record))
    assert answer.outcome is OfflineOutcome.REJECTED and answer.detail
    assert center.registry.offline_slips_of(BRANCH_A.district) == []
    assert center.registry.reservations() == []


def test_the_largest_record_fits_its_field_and_its_request_fits_a_message() -> None:
    sample = permit_sample(max_slips=MAX_OFFLINE_SLIPS)
    issue = dataclasses.replace(sample.issue(BRANCH_A, MAX_OFFLINE_SLIPS, ADULT), activation=MAX_ACTIVATIONS,
                                snapshot_version=2**31 - 1, snapshot_hit=True,
                                document=DocumentKind.BIRTH_CERTIFICATE)
    issue = dataclasses.replace(issue, sealed_voter=issue.sealed_voter.ljust(1024, "A"))
    record = signed(issue)
    assert len(record) <= MAX_OFFLINE_RECORD_CHARS
    request = _replay_request(issue, record)
    assert len(encode_request(request)) <= MAX_MESSAGE_BYTES
