"""Two districts over one nation: each its own broker and center, one national registry on PostgreSQL."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from center.registry import Duplicate, RefusalReason, Refused, ReservationState, ReserveClaim, Reserved
from center.storage import PostgresSettings, Requester
from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed, OperatorDismissed, OperatorRetry, OperatorVoid
from firmware_app.flow.notices import Duplicate as DuplicateNotice
from firmware_app.identity.document import Document
from harness.district import VirtualDistrict
from harness.postgres import PostgresCluster
from harness.terminal import TerminalPlan, VirtualTerminal
from protocol.messages import Answer, DocumentKind, ReserveAnswer, ReserveOutcome, VoidReason
from protocol.seal import open_answer
from tests.integration.conftest import ELECTION_DAY, Voters, card_of

pytestmark = pytest.mark.real_peer
_numbers = itertools.count(1)
TerminalFactory = Callable[[VirtualDistrict, str | None], VirtualTerminal]


@dataclass(frozen=True)
class Nation:
    d01: VirtualDistrict
    d02: VirtualDistrict
    voters: Voters


@pytest.fixture(scope="module")
def nation(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nation]:
    """D01 and D02, each with its own mutual-TLS broker and center, both on one national registry: one roll,
    loaded once, and one national voter key."""
    national = PostgresSettings(postgres.create_database(f"nation_{secrets.token_hex(4)}"), pool_size=2)
    voter_key = secrets.token_bytes(32)
    work = tmp_path_factory.mktemp("nation")
    d01 = VirtualDistrict(work / "D01", "D01", ELECTION_DAY, voters=60, seed=12, registry=national,
                          voter_key=voter_key)
    d02 = VirtualDistrict(work / "D02", "D02", ELECTION_DAY, voters=60, seed=12, registry=national,
                          voter_key=voter_key, load_roll=False)
    d01.start()
    try:
        d02.start()
        try:
            yield Nation(d01, d02, Voters(d01.roll))
        finally:
            d02.stop()
    finally:
        d01.stop()


@pytest.fixture
def terminal_in(tmp_path: Path) -> Iterator[TerminalFactory]:
    made: list[VirtualTerminal] = []

    def make(district: VirtualDistrict, name: str | None = None) -> VirtualTerminal:
        number = next(_numbers)
        name = name or f"T-{district.district}-{number:02d}"
        folder = tmp_path / district.district / name
        installation = district.provision(name, f"B-{district.district}-{number:02d}", folder / "prov")
        terminal = VirtualTerminal(TerminalPlan(installation, folder, district.broker.address))
        made.append(terminal)
        terminal.start()
        terminal.open_polls()
        return terminal

    yield make
    for terminal in made:
        terminal.stop()


def _issue(terminal: VirtualTerminal, card: Document) -> str:
    terminal.reader.insert(card)
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    committing = terminal.wait_for(st.Committing)
    assert isinstance(committing, st.Committing)
    terminal.wait_for(st.Idle)
    return committing.inquiry_code


def test_a_voter_issued_a_slip_in_one_district_is_a_duplicate_in_the_other_naming_the_first_branch(
    nation: Nation, terminal_in: TerminalFactory
) -> None:
    first, second = terminal_in(nation.d01, None), terminal_in(nation.d02, None)
    voter = nation.voters.eligible()
    _issue(first, card_of(voter))
    second.reader.insert(card_of(voter))
    second.wait_for(st.AwaitingConfirmation)
    second.post(OperatorConfirmed())
    refused = second.wait_for(st.VoterRefused)
    assert isinstance(refused, st.VoterRefused) and refused.outcome is ReserveOutcome.DUPLICATE, refused
    assert isinstance(refused.notice, DuplicateNotice)
    assert refused.notice.first_branch == first.plan.identity.branch
    registry = nation.d02.registry()
    try:
        asked = registry.reserve(ReserveClaim(secrets.token_hex(16), voter.national_code, DocumentKind.SMART_CARD,
                                              False, Requester("T-inspector", "B-x", "D02")))
    finally:
        registry.close()
    assert isinstance(asked, Duplicate) and refused.notice.first_at == asked.first_at, \
        "the duplicate must carry the time the first slip was issued in D01"
    assert second.slips() == []
    second.post(OperatorDismissed())
    second.wait_for(st.Idle)


def test_a_void_in_one_district_frees_the_voter_for_the_other(nation: Nation, terminal_in: TerminalFactory) -> None:
    first, second = terminal_in(nation.d01, None), terminal_in(nation.d02, None)
    voter = nation.voters.eligible()
    lost: list[bytes] = []
    deliver = first.runtime.answer_arrived
    first.link._on_answer = lambda payload: lost.append(payload) if not lost else deliver(payload)
    first.reader.insert(card_of(voter))
    first.wait_for(st.AwaitingConfirmation)
    first.post(OperatorConfirmed())
    first.wait_for(st.NoAnswer)
    assert nation.d01.reservations_of(first.plan.identity.terminal)[0][1] is ReservationState.RESERVED
    first.post(OperatorVoid())
    first.wait_for(st.Idle)
    first.wait_until(lambda: [state for _, state in nation.d01.reservations_of(first.plan.identity.terminal)]
                     == [ReservationState.VOIDED])
    code = _issue(second, card_of(voter))
    assert nation.d02.reservations_of(second.plan.identity.terminal) == [(code, ReservationState.COMMITTED)]
    assert first.slips() == []


def test_a_retry_of_the_same_transaction_gets_the_same_code_through_either_district(
    nation: Nation, terminal_in: TerminalFactory
) -> None:
    terminal = terminal_in(nation.d02, None)
    voter = nation.voters.eligible()
    lost: list[bytes] = []
    deliver = terminal.runtime.answer_arrived
    terminal.link._on_answer = lambda payload: lost.append(payload) if not lost else deliver(payload)
    terminal.reader.insert(card_of(voter))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.NoAnswer)
    terminal.post(OperatorRetry())
    committing = terminal.wait_for(st.Committing)
    assert isinstance(committing, st.Committing)
    opened = open_answer(lost[0], nation.d02.keys.signing_public)
    assert isinstance(opened, Answer) and isinstance(opened.body, ReserveAnswer)
    assert opened.body.inquiry_code == committing.inquiry_code, "the retry must not get a second code"
    [record] = terminal.transactions()
    identity = terminal.plan.identity
    who = Requester(identity.terminal, identity.branch, identity.district)
    for district in (nation.d01, nation.d02):
        registry = district.registry()
        try:
            again = registry.reserve(ReserveClaim(record.tx_id, voter.national_code, record.document, False, who))
        finally:
            registry.close()
        assert again == Reserved(committing.inquiry_code), f"through {district.district}: {again}"
    assert len(terminal.slips()) == 1


def test_terminals_of_one_name_in_two_districts_keep_their_own_transactions_and_answer_counts(
    nation: Nation, terminal_in: TerminalFactory
) -> None:
    """Terminal names are unique only within a district: on the national registry T-SAME of D01 and T-SAME of
    D02 are two terminals, with their own quota and answers, and neither can settle the other's transaction."""
    first, second = terminal_in(nation.d01, "T-SAME"), terminal_in(nation.d02, "T-SAME")
    code_first = _issue(first, card_of(nation.voters.eligible()))
    code_second = _issue(second, card_of(nation.voters.eligible()))
    assert nation.d01.reservations_of("T-SAME") == [(code_first, ReservationState.COMMITTED)]
    assert nation.d02.reservations_of("T-SAME") == [(code_second, ReservationState.COMMITTED)]
    [record] = first.transactions()
    identity = second.plan.identity
    registry = nation.d02.registry()
    try:
        counts = [registry.answered_count(district, "T-SAME") for district in ("D01", "D02")]
        voided = registry.void(record.tx_id, Requester(identity.terminal, identity.branch, identity.district),
                               VoidReason.OPERATOR_CANCELLED)
    finally:
        registry.close()
    assert counts == [3, 3], f"opening, reserve and commit each, counted apart (D01, D02): {counts}"
    assert voided == Refused(RefusalReason.TX_OF_OTHER_TERMINAL), voided
    assert nation.d01.reservations_of("T-SAME") == [(code_first, ReservationState.COMMITTED)]
