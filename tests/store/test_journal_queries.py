"""The journal's recovery queries: what a restart reads back (the polls, the one open voter, the unanswered
requests, the closing time, the counts), built through the journal's own writes and read again from the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from firmware_app.flow.effects import Counter
from firmware_app.flow.events import BACKGROUND_STAGES, CLOSED_STAGES, OpenTx, TxStage
from firmware_app.flow.states import PollsPhase
from firmware_app.store.journal import Journal, OutboxEntry, TxRecord
from protocol.messages import CloseCounts, DocumentKind, RequestKind

AT = datetime(2026, 6, 12, 4, 30, tzinfo=UTC)
CODE = "123456784"
ZERO = CloseCounts(0, 0, 0, 0, 0, 0, 0, 0)
FOREGROUND_STAGES = frozenset(TxStage) - CLOSED_STAGES - BACKGROUND_STAGES


def tx_id(n: int) -> str:
    return f"{n:032x}"


def request_id(n: int) -> str:
    return f"{n:032x}"[::-1]


def entry(n: int, tx: str, kind: RequestKind) -> OutboxEntry:
    return OutboxEntry(request_id(n), tx, kind, f"signed {kind.value} {n}".encode())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    opened = Journal(path)
    yield opened
    opened.close()


def reopened(path: Path) -> Journal:
    """What a restart opens: the same file, a new connection."""
    return Journal(path)


def voter(journal: Journal, n: int, *stages: TxStage, code: str | None = CODE, paper_moved: bool = False) -> str:
    """A transaction moved through `stages` (the inquiry code recorded from ELIGIBLE on), one write at a time."""
    tx = tx_id(n)
    at = AT + timedelta(minutes=n)
    with journal.atomic():
        journal.add_transaction(tx, DocumentKind.SMART_CARD, f"hash-{n}", False, at)
    for index, stage in enumerate(stages, 1):
        with journal.atomic():
            journal.set_stage(tx, stage, at + timedelta(seconds=index),
                              inquiry_code=code if stage is not TxStage.RESERVE_PENDING else None,
                              paper_moved=paper_moved and stage is TxStage.PRINT_FAILED)
    return tx


# --- a fresh journal -----------------------------------------------------------------------------------------------


def test_a_new_journal_has_not_opened_and_holds_nothing(journal: Journal) -> None:
    assert journal.polls_phase() is PollsPhase.NOT_OPEN
    assert journal.open_foreground() is None
    assert journal.unanswered() == []
    assert journal.closing_time() is None
    assert journal.close_counts() == ZERO
    assert journal.transactions() == []


# --- the polls and the day -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("phases", [
    [PollsPhase.OPEN], [PollsPhase.OPEN, PollsPhase.SUSPENDED], [PollsPhase.OPEN, PollsPhase.SUSPENDED,
                                                                 PollsPhase.OPEN, PollsPhase.CLOSED],
])
def test_the_polls_phase_is_the_last_one_set_and_survives_a_restart(path: Path, journal: Journal,
                                                                   phases: list[PollsPhase]) -> None:
    for phase in phases:
        with journal.atomic():
            journal.set_polls(phase)
    assert journal.polls_phase() is phases[-1]
    again = reopened(path)
    assert again.polls_phase() is phases[-1]
    again.close()


def test_the_closing_time_is_the_last_extension_and_survives_a_restart(path: Path, journal: Journal) -> None:
    tehran = timezone(timedelta(hours=3, minutes=30))
    first, later = datetime(2026, 6, 12, 20, 0, tzinfo=tehran), datetime(2026, 6, 12, 22, 0, tzinfo=tehran)
    for until in (first, later):
        with journal.atomic():
            journal.set_closing_time(until)
    again = reopened(path)
    read = again.closing_time()
    again.close()
    assert read == later and read is not None and read.utcoffset() is not None, "the same instant, aware"


# --- the one open voter --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(FOREGROUND_STAGES))
def test_a_transaction_in_a_foreground_stage_is_the_one_the_operator_settles(journal: Journal, stage: TxStage) -> None:
    tx = voter(journal, 1, stage)
    code = None if stage is TxStage.RESERVE_PENDING else CODE
    assert journal.open_foreground() == OpenTx(tx, DocumentKind.SMART_CARD, stage, code, False)


@pytest.mark.parametrize("stage", sorted(BACKGROUND_STAGES | CLOSED_STAGES))
def test_a_transaction_waiting_on_the_center_or_closed_needs_no_operator(journal: Journal, stage: TxStage) -> None:
    voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, stage)
    assert journal.open_foreground() is None


def test_the_foreground_one_is_found_among_background_and_closed_ones(journal: Journal) -> None:
    voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING, TxStage.ISSUED)
    voter(journal, 2, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING)
    voter(journal, 3, TxStage.VOID_PENDING)
    voter(journal, 4, TxStage.REFUSED, code=None)
    current = voter(journal, 5, TxStage.ELIGIBLE)
    found = journal.open_foreground()
    assert found is not None and (found.tx_id, found.stage, found.inquiry_code) == (current, TxStage.ELIGIBLE, CODE)


def test_a_slip_that_moved_paper_makes_every_later_print_a_reprint(journal: Journal) -> None:
    tx = voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.PRINT_FAILED, paper_moved=True)
    assert journal.open_foreground() == OpenTx(tx, DocumentKind.SMART_CARD, TxStage.PRINT_FAILED, CODE, True)
    with journal.atomic():
        journal.set_stage(tx, TxStage.PRINTING, AT + timedelta(hours=1))
    found = journal.open_foreground()
    assert found is not None and found.reprint, "the flag stays once paper moved"


def test_a_print_that_failed_before_any_paper_moved_is_not_a_reprint(journal: Journal) -> None:
    voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.PRINT_FAILED, paper_moved=False)
    found = journal.open_foreground()
    assert found is not None and not found.reprint


def test_a_commit_pending_marks_the_next_print_a_reprint(journal: Journal) -> None:
    tx = voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING)
    record = journal.transaction(tx)
    assert record is not None and record.reprint_next


def test_a_closed_stage_is_final_so_a_late_answer_cannot_reopen_it(journal: Journal) -> None:
    tx = voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING, TxStage.ISSUED)
    with journal.atomic():
        journal.set_stage(tx, TxStage.PRINTING, AT + timedelta(hours=1))
        journal.set_stage(tx, TxStage.VOIDED, AT + timedelta(hours=1))
    record = journal.transaction(tx)
    assert record is not None and record.stage is TxStage.ISSUED
    assert journal.open_foreground() is None


def test_two_foreground_transactions_are_a_journal_the_flow_cannot_have(journal: Journal) -> None:
    voter(journal, 1, TxStage.ELIGIBLE)
    voter(journal, 2, TxStage.PRINTING)
    with pytest.raises(RuntimeError, match="2 foreground transactions"):
        journal.open_foreground()


# --- the outbox ----------------------------------------------------------------------------------------------------


def test_unanswered_holds_requests_in_the_order_written_and_leaves_out_answered_ones(journal: Journal) -> None:
    tx_a, tx_b = voter(journal, 1), voter(journal, 2)
    written = [entry(1, tx_a, RequestKind.RESERVE), entry(2, tx_b, RequestKind.RESERVE),
               entry(3, tx_a, RequestKind.COMMIT), entry(4, tx_b, RequestKind.VOID)]
    for n, request in enumerate(written):
        with journal.atomic():
            journal.enqueue(request, AT + timedelta(seconds=n))
    with journal.atomic():
        journal.mark_answered(written[0].request_id, AT + timedelta(minutes=1))
        journal.mark_answered(written[3].request_id, AT + timedelta(minutes=1))
    assert journal.unanswered() == [written[1], written[2]]


def test_pending_is_only_an_unanswered_request_of_ours(journal: Journal) -> None:
    tx = voter(journal, 1)
    reserve, commit = entry(1, tx, RequestKind.RESERVE), entry(2, tx, RequestKind.COMMIT)
    with journal.atomic():
        journal.enqueue(reserve, AT)
        journal.enqueue(commit, AT + timedelta(seconds=1))
        journal.mark_answered(reserve.request_id, AT + timedelta(seconds=2))
    assert journal.pending(commit.request_id) == commit
    assert journal.pending(reserve.request_id) is None, "an answered request: a replayed answer is dropped"
    assert journal.pending("f" * 32) is None, "an unknown request"
    assert journal.outbox_entry(tx, RequestKind.RESERVE) == reserve, "the signed request is kept once answered"


def test_a_resend_attempt_changes_nothing_a_restart_reads(journal: Journal) -> None:
    tx = voter(journal, 1)
    reserve = entry(1, tx, RequestKind.RESERVE)
    with journal.atomic():
        journal.enqueue(reserve, AT)
    with journal.atomic():
        journal.note_attempt(reserve.request_id)
    assert journal.unanswered() == [reserve] and journal.pending(reserve.request_id) == reserve


def test_one_request_of_each_kind_per_transaction(journal: Journal) -> None:
    tx = voter(journal, 1)
    with journal.atomic():
        journal.enqueue(entry(1, tx, RequestKind.RESERVE), AT)
    with pytest.raises(sqlite3.IntegrityError), journal.atomic():
        journal.enqueue(entry(2, tx, RequestKind.RESERVE), AT)
    assert len(journal.unanswered()) == 1


# --- counts and serials --------------------------------------------------------------------------------------------


def test_close_counts_are_the_counters_bumped_and_nothing_else(journal: Journal) -> None:
    with journal.atomic():
        for counter in (Counter.ISSUED, Counter.ISSUED, Counter.REPRINTED, Counter.VOIDED, Counter.FACE_OVERRIDES):
            journal.bump(counter.value)
        journal.bump("slip_serial")
    assert journal.close_counts() == CloseCounts(issued=2, reprinted=1, voided=1, duplicates_refused=0, ineligible=0,
                                                 operator_rejected=0, rejected_documents=0, face_overrides=1)


def test_a_serial_is_given_once_per_transaction_and_slips_are_numbered_in_order(journal: Journal) -> None:
    first, second = voter(journal, 1, TxStage.ELIGIBLE), voter(journal, 2, TxStage.ELIGIBLE)
    with journal.atomic():
        serials = [journal.assign_serial(first), journal.assign_serial(first), journal.assign_serial(second)]
    assert serials == [1, 1, 2], "a reprint keeps its serial"
    assert journal.close_counts() == ZERO, "the serial counter is not a count of the closing report"


def test_a_step_rolled_back_is_not_what_a_restart_sees(path: Path, journal: Journal) -> None:
    tx = voter(journal, 1, TxStage.ELIGIBLE)
    with pytest.raises(ZeroDivisionError), journal.atomic():
        journal.set_stage(tx, TxStage.PRINTING, AT + timedelta(hours=1))
        journal.assign_serial(tx)
        journal.set_polls(PollsPhase.CLOSED)
        _ = 1 // 0
    again = reopened(path)
    assert again.open_foreground() == OpenTx(tx, DocumentKind.SMART_CARD, TxStage.ELIGIBLE, CODE, False)
    assert again.polls_phase() is PollsPhase.NOT_OPEN
    record = again.transaction(tx)
    again.close()
    assert record is not None and record.serial is None


# --- what a restart sees ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recovery:
    """Every answer the runtime reads from the journal at start-up."""

    polls: PollsPhase
    current: OpenTx | None
    unanswered: list[OutboxEntry]
    closing_time: datetime | None
    counts: CloseCounts
    transactions: list[TxRecord]
    audit: list[str]


def recovery(journal: Journal) -> Recovery:
    return Recovery(journal.polls_phase(), journal.open_foreground(), journal.unanswered(), journal.closing_time(),
                    journal.close_counts(), journal.transactions(), [e.hash for e in journal.audit_entries()])


def test_a_reopened_journal_gives_the_same_answers(path: Path, journal: Journal) -> None:
    with journal.atomic():
        journal.set_polls(PollsPhase.OPEN)
        journal.set_closing_time(AT + timedelta(hours=15))
        journal.audit(AT, "step", {"event": "OpenAcknowledged"})
    issued = voter(journal, 1, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING, TxStage.ISSUED)
    committing = voter(journal, 2, TxStage.ELIGIBLE, TxStage.PRINTING, TxStage.COMMIT_PENDING)
    printing = voter(journal, 3, TxStage.ELIGIBLE, TxStage.PRINTING)
    with journal.atomic():
        for n, (tx, kind) in enumerate([(issued, RequestKind.RESERVE), (issued, RequestKind.COMMIT),
                                        (committing, RequestKind.RESERVE), (committing, RequestKind.COMMIT),
                                        (printing, RequestKind.RESERVE)]):
            journal.enqueue(entry(n, tx, kind), AT + timedelta(minutes=10 + n))
        for n in (0, 1, 2, 4):
            journal.mark_answered(request_id(n), AT + timedelta(minutes=30))
        for tx in (issued, committing, printing):
            journal.assign_serial(tx)
        journal.bump(Counter.ISSUED.value)
        journal.bump(Counter.ISSUED.value)
        journal.audit(AT + timedelta(minutes=31), "report", {"kind": "zero"})
    before = recovery(journal)
    assert before.current == OpenTx(printing, DocumentKind.SMART_CARD, TxStage.PRINTING, CODE, False)
    assert before.unanswered == [entry(3, committing, RequestKind.COMMIT)]
    assert before.counts.issued == 2

    journal.close()
    again = reopened(path)
    after = recovery(again)
    again.close()
    assert after == before
