"""Whole voters through a real mosquitto and the real center: slips only for signed ELIGIBLE answers."""

from __future__ import annotations

from center.registry import ReservationState
from firmware_app.flow import states as st
from firmware_app.flow.events import (
    OperatorConfirmed,
    OperatorDismissed,
    OperatorRetry,
    OperatorVoid,
    TxStage,
)
from firmware_app.flow.notices import Duplicate
from harness.district import VirtualDistrict
from protocol.messages import Answer, ReserveAnswer, ReserveOutcome
from protocol.seal import open_answer
from tests.integration.conftest import TerminalFactory, Voters, card_of


def test_a_whole_voter_gets_one_slip_and_the_center_records_it_issued(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    committing = terminal.wait_for(st.Committing)
    assert isinstance(committing, st.Committing)
    terminal.wait_for(st.Idle)
    jobs = terminal.slips()
    assert [job.qr for job in jobs] == [(committing.inquiry_code,)]
    assert district.reservations_of(terminal.plan.identity.terminal) == [
        (committing.inquiry_code, ReservationState.COMMITTED)
    ]
    [record] = terminal.journal.transactions()
    assert record.stage is TxStage.ISSUED and record.inquiry_code == committing.inquiry_code


def test_the_same_voter_at_a_second_terminal_is_refused_as_duplicate(
    voters: Voters, make_terminal: TerminalFactory
) -> None:
    first, second = make_terminal(), make_terminal()
    voter = voters.eligible()
    first.reader.insert(card_of(voter))
    first.wait_for(st.AwaitingConfirmation)
    first.post(OperatorConfirmed())
    first.wait_for(st.Committing)
    second.reader.insert(card_of(voter))
    second.wait_for(st.AwaitingConfirmation)
    second.post(OperatorConfirmed())
    refused = second.wait_for(st.VoterRefused)
    assert isinstance(refused, st.VoterRefused) and refused.outcome is ReserveOutcome.DUPLICATE
    assert isinstance(refused.notice, Duplicate) and refused.notice.first_branch == first.plan.identity.branch
    assert first.plan.identity.branch in second.display.messages[-1]
    assert second.slips() == []
    second.post(OperatorDismissed())
    second.wait_for(st.Idle)


def test_a_deceased_voter_is_ineligible_and_gets_no_slip(voters: Voters, make_terminal: TerminalFactory) -> None:
    terminal = make_terminal()
    terminal.reader.insert(card_of(voters.deceased()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    refused = terminal.wait_for(st.VoterRefused)
    assert isinstance(refused, st.VoterRefused) and refused.outcome is ReserveOutcome.INELIGIBLE
    assert terminal.slips() == []


def test_retry_after_a_lost_answer_gets_the_same_inquiry_code(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    lost: list[bytes] = []
    deliver = terminal.runtime.answer_arrived
    terminal.link._on_answer = lambda payload: lost.append(payload) if not lost else deliver(payload)
    terminal.reader.insert(card_of(voters.eligible()))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.NoAnswer)
    assert terminal.slips() == [], "no slip without an answer"
    terminal.post(OperatorRetry())
    committing = terminal.wait_for(st.Committing)
    opened = open_answer(lost[0], district.keys.signing_public)
    assert isinstance(opened, Answer) and isinstance(opened.body, ReserveAnswer)
    assert isinstance(committing, st.Committing)
    assert opened.body.inquiry_code == committing.inquiry_code, "the retry must not get a second code"
    assert len(terminal.slips()) == 1


def test_center_down_means_no_slip_and_a_void_frees_the_voter_once_it_is_back(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory
) -> None:
    terminal = make_terminal()
    voter = voters.eligible()
    district.stop_center()
    try:
        terminal.reader.insert(card_of(voter))
        terminal.wait_for(st.AwaitingConfirmation)
        terminal.post(OperatorConfirmed())
        no_answer = terminal.wait_for(st.NoAnswer)
        assert isinstance(no_answer, st.NoAnswer) and no_answer.reason is st.NoAnswerReason.TIMED_OUT
        assert terminal.slips() == []
        assert "تعرفه صادر نمی‌شود" in terminal.display.messages[-1]
        terminal.post(OperatorVoid())
        terminal.wait_for(st.Idle)
    finally:
        district.start_center()
    terminal.wait_until(lambda: [tx.stage for tx in terminal.transactions()] == [TxStage.VOIDED])
    assert all(state is not ReservationState.RESERVED
               for _, state in district.reservations_of(terminal.plan.identity.terminal))
