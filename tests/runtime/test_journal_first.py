"""The shell journals before it acts: what each effect writes is committed before the link, a device or the screen
is used, as a second connection to the journal file sees at that moment; a step that cannot be journaled does
nothing at all. The real runtime runs here with in-memory peers: no broker, no pcscd."""

from __future__ import annotations

import json
import sqlite3
import threading
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from center.eligibility import VoterRecord, VoterStatus
from center.enrolled import EnrolledTerminal
from center.registry import Registry, ReservationState
from center.responder import Dropped, Reply, Responder
from center.voter_key import registry_key
from firmware_app.flow import effects as ef
from firmware_app.flow.effects import Counter, Effect
from firmware_app.flow.events import (
    DeadlineExpired,
    DeadlineKind,
    Event,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorDismissed,
    OperatorRetry,
    ReportPrinted,
    SlipCameOut,
    SuspendRequested,
    TxStage,
    VoidAnswered,
)
from firmware_app.flow.notices import Duplicate, Extended, Notice, Say
from firmware_app.flow.states import (
    AwaitingConfirmation,
    Closing,
    Committing,
    Idle,
    NoAnswer,
    Opening,
    PollsClosed,
    PollsPhase,
    PollsSuspended,
    RecoveryDecision,
    RecoveryQuestion,
    ReportKind,
    Reserving,
    Starting,
    State,
    VoterRefused,
)
from firmware_app.flow.step import Step
from firmware_app.identity.document import Document
from firmware_app.runtime import journaling
from firmware_app.runtime.journaling import JournalInconsistentError, journal_effect
from firmware_app.runtime.loop import Runtime
from firmware_app.runtime.ports import Devices
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.store.journal import Journal, TxRecord
from firmware_app.store.minutes import RecordedMinutes
from hal.indicators import Signal
from hal.printer import PrintDocument, PrintResult
from harness.fakes import LoggingPrinter, RecordingDisplay, RecordingIndicators, ScriptedReader
from harness.terminal import ShiftedClock
from protocol.codec import ProtocolError
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    AnswerBody,
    AnswerHeader,
    CloseAnswer,
    CloseBody,
    CloseCounts,
    CommitAnswer,
    CommitOutcome,
    CountingInstructions,
    DocumentKind,
    Extension,
    Request,
    RequestKind,
    ReserveAnswer,
    ReserveOutcome,
    VoidAnswer,
    VoidOutcome,
)
from protocol.national_code import NationalCode, keyed_hash
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_request,
    public_part,
    sign_answer,
    sign_extension,
)
from protocol.topics import request_topic
from tests.runtime.channel import InMemoryChannel

WAIT = 10.0
"""How long a wait may take before the test fails; only a bound for a hung terminal, never asserted on."""

IDENTITY = TerminalIdentity("T-0001", "B-0001", "D01")
CENTER = generate_signing_key()
SEALING = generate_sealing_key()
TERMINAL = generate_signing_key()
VOTER_KEY = b"k" * 32
VOTER = "0012345679"
INQUIRY_CODE = "123456784"

E = TypeVar("E", bound=Event)
S = TypeVar("S", bound=State)
T = TypeVar("T")


# --- what a second connection to the journal reads ------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    request_id: str
    tx_id: str
    kind: RequestKind
    payload: bytes
    answered: bool
    attempts: int


@dataclass(frozen=True)
class JournalView:
    """The journal as another connection reads it: only what the loop has committed."""

    polls: PollsPhase
    closing_time: datetime | None
    transactions: dict[str, TxRecord]
    outbox: tuple[OutboxRow, ...]
    counts: dict[Counter, int]
    audit: tuple[tuple[str, dict[str, Any]], ...]
    minutes: RecordedMinutes | None = None
    branch_committed: int | None = None
    instructions: CountingInstructions | None = None

    def tx(self, tx_id: str) -> TxRecord:
        assert tx_id in self.transactions, f"the journal holds no transaction {tx_id}"
        return self.transactions[tx_id]

    def request(self, kind: RequestKind, payload: bytes | None = None) -> OutboxRow:
        rows = [row for row in self.outbox if row.kind is kind and payload in (None, row.payload)]
        assert len(rows) == 1, f"the outbox holds {len(rows)} matching {kind.value} requests: {self.outbox}"
        return rows[0]

    def audited(self, kind: str) -> list[dict[str, Any]]:
        return [detail for entry_kind, detail in self.audit if entry_kind == kind]


def look(path: Path) -> JournalView:
    journal = Journal(path)
    try:
        rows = journal.conn.execute(
            "SELECT request_id, tx_id, kind, payload, acked_at, attempts FROM outbox ORDER BY rowid").fetchall()
        return JournalView(
            polls=journal.polls_phase(),
            closing_time=journal.closing_time(),
            transactions={tx.tx_id: tx for tx in journal.transactions()},
            outbox=tuple(OutboxRow(r[0], r[1], RequestKind(r[2]), bytes(r[3]), r[4] is not None, int(r[5]))
                         for r in rows),
            counts=journal.counts(),
            audit=tuple((entry.kind, json.loads(entry.detail)) for entry in journal.audit_entries()),
            minutes=journal.minutes(), branch_committed=journal.branch_committed(),
            instructions=journal.instructions(),
        )
    finally:
        journal.close()


class Sightings(Generic[T]):
    """What the link or a device was asked to do, each with the journal as a connection of its own read it at
    that moment (before the action itself)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: list[tuple[T, JournalView | str]] = []

    def record(self, item: T) -> None:
        try:
            view: JournalView | str = look(self._path)
        except Exception as exc:  # a failed look is the test's to report, not the runtime's fault
            view = f"the journal could not be read: {exc!r}"
        with self._lock:
            self._seen.append((item, view))

    def items(self) -> list[T]:
        with self._lock:
            return [item for item, _ in self._seen]

    def views(self, matches: Callable[[T], bool]) -> list[JournalView]:
        """The journal at each sighting that matches, in order; fails if there was none."""
        with self._lock:
            seen = [view for item, view in self._seen if matches(item)]
        assert seen, f"never seen; saw {self.items()}"
        for view in seen:
            assert isinstance(view, JournalView), view
        return [view for view in seen if isinstance(view, JournalView)]

    def at(self, item: T) -> JournalView:
        """The journal when `item` was first acted on."""
        return self.views(lambda seen: seen == item)[0]


class WatchedPrinter(LoggingPrinter):
    def __init__(self, log_path: Path, sightings: Sightings[str]) -> None:
        super().__init__(log_path)
        self.sightings = sightings

    def print_document(self, document: PrintDocument) -> PrintResult:
        self.sightings.record(document.title)
        return super().print_document(document)


class WatchedDisplay(RecordingDisplay):
    def __init__(self, sightings: Sightings[Notice]) -> None:
        super().__init__()
        self.sightings = sightings

    def show(self, notice: Notice) -> None:
        self.sightings.record(notice)
        super().show(notice)


class WatchedIndicators(RecordingIndicators):
    def __init__(self, sightings: Sightings[Signal]) -> None:
        super().__init__()
        self.sightings = sightings

    def show(self, pattern: Signal) -> None:
        self.sightings.record(pattern)
        super().show(pattern)


# --- waiting on the loop's steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken(Generic[E]):
    before: State
    event: E
    step: Step[State]


class Steps:
    """Every step the runtime tells its listeners of, kept from before it starts, so none is missed.

    `reached` and `act` move on through the history: `reached` waits for a step after the last one returned, from
    the step `act` took on (that step's own result counts, since the loop may take other events before or after
    it); `taken` finds steps by their event's kind, each one once."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._changed = threading.Condition()
        self._history: list[tuple[State, Event, Step[State]]] = []
        self._mark = 0
        self._taken: set[int] = set()
        runtime.add_listener(self._record)

    def _record(self, before: State, event: Event, result: Step[State]) -> None:
        with self._changed:
            self._history.append((before, event, result))
            self._changed.notify_all()

    def reached(self, kind: type[S]) -> S:
        """The next step that leads to a state of this kind."""
        with self._changed:
            while True:
                for index in range(self._mark, len(self._history)):
                    state = self._history[index][2].state
                    if isinstance(state, kind):
                        self._mark = index + 1
                        return state
                self._wait(f"a step to {kind.__name__}")

    def taken(self, kind: type[E]) -> Taken[E]:
        """The first step for an event of this kind not returned before."""
        with self._changed:
            while True:
                for index, (before, event, result) in enumerate(self._history):
                    if index not in self._taken and isinstance(event, kind):
                        self._taken.add(index)
                        return Taken(before, event, result)
                self._wait(f"a step for {kind.__name__}")

    def act(self, event: E) -> Taken[E]:
        """Post an event and wait until the loop has taken that very event."""
        self._runtime.post(event)
        with self._changed:
            while True:
                for index in range(self._mark, len(self._history)):
                    before, taken, result = self._history[index]
                    if taken is event:
                        self._mark = index
                        return Taken(before, event, result)
                self._wait(f"the step for {type(event).__name__}")

    def _wait(self, what: str) -> None:
        if not self._changed.wait(WAIT):
            seen = [f"{type(b).__name__}+{type(e).__name__}->{type(r.state).__name__}" for b, e, r in self._history]
            raise AssertionError(f"no {what}; the terminal is in {type(self._runtime.state).__name__} after "
                                 f"{seen[-8:]} ({self._runtime.faults} faults)")


# --- the terminal, with the center played by the test --------------------------------------------------------------


class ScriptedCenter:
    """Answers a request as the center would, signed with its key; the test chooses the answer."""

    def request(self, payload: bytes) -> Request:
        request = open_request(payload, public_part(TERMINAL))
        assert not isinstance(request, ProtocolError), f"the terminal sent a request that does not verify: {request}"
        return request

    def answer(self, payload: bytes, body: AnswerBody, at: datetime) -> bytes:
        request = self.request(payload)
        header = request.header
        return sign_answer(Answer(request.kind, AnswerHeader(header.request_id, header.tx_id, header.terminal, at),
                                  body), CENTER)


@dataclass
class Rig:
    path: Path
    clock: ShiftedClock
    settings: RuntimeSettings
    runtime: Runtime
    steps: Steps
    channel: InMemoryChannel
    printer: WatchedPrinter
    requests: Sightings[bytes]
    prints: Sightings[str]
    notices: Sightings[Notice]
    signals: Sightings[Signal]
    center: ScriptedCenter

    def answer(self, payload: bytes, body: AnswerBody) -> None:
        self.runtime.answer_arrived(self.center.answer(payload, body, self.clock()))

    def view(self) -> JournalView:
        return look(self.path)


def settings_at(now: datetime) -> RuntimeSettings:
    return RuntimeSettings(
        IDENTITY, False, public_part(CENTER), public_part(SEALING), TERMINAL, VOTER_KEY, "test", "0" * 64, "0" * 64,
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(hours=10),
        deadlines=dict.fromkeys(DeadlineKind, 600.0), resend_interval=600.0,
    )


def make_rig(folder: Path, reader: ScriptedReader | None = None,
             adjust: Callable[[RuntimeSettings], RuntimeSettings] | None = None) -> Rig:
    """Deadlines and the resend tick are far off: a test posts a deadline's expiry itself, and ticks by telling
    the runtime the link came back. `adjust` changes the settings (an election bundle, training)."""
    path = folder / "journal.db"
    clock = ShiftedClock()
    settings = settings_at(clock())
    if adjust is not None:
        settings = adjust(settings)
    requests: Sightings[bytes] = Sightings(path)
    prints: Sightings[str] = Sightings(path)
    notices: Sightings[Notice] = Sightings(path)
    signals: Sightings[Signal] = Sightings(path)
    channel = InMemoryChannel(watch=requests.record)
    printer = WatchedPrinter(folder / "printer.jsonl", prints)
    devices = Devices(printer, reader=reader, indicators=WatchedIndicators(signals))
    runtime = Runtime(settings, Journal(path), channel, devices, WatchedDisplay(notices), clock,
                      connected=lambda: channel.connected)
    return Rig(path, clock, settings, runtime, Steps(runtime), channel, printer, requests, prints, notices, signals,
               ScriptedCenter())


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(tmp_path)
    made.runtime.start()
    yield made
    made.runtime.stop()
    made.runtime.journal.close()


def open_polls(rig: Rig) -> bytes:
    """Self-test, zero report, the open request acknowledged: the polls are open. Returns the open request."""
    rig.runtime.request_open()
    rig.steps.reached(Opening)
    sent = rig.channel.published[-1]
    rig.answer(sent, AckAnswer(AckOutcome.ACK))
    rig.steps.reached(Idle)
    return sent


def reserve(rig: Rig, code: str = VOTER) -> tuple[str, bytes]:
    """A voter with a typed national code, confirmed; the center is asked. Returns the tx id and the reserve."""
    typed = rig.runtime.type_national_code(code, DocumentKind.BIRTH_CERTIFICATE)
    rig.steps.reached(AwaitingConfirmation)
    rig.steps.act(OperatorConfirmed())
    rig.steps.reached(Reserving)
    return typed.tx_id, rig.channel.offered[-1]


def eligible(rig: Rig, sent: bytes) -> None:
    rig.answer(sent, ReserveAnswer(ReserveOutcome.ELIGIBLE, INQUIRY_CODE, None, None, None, None))


def decoded_close(payload: bytes) -> CloseCounts:
    body = ScriptedCenter().request(payload).body
    assert isinstance(body, CloseBody)
    return body.counts


# --- every effect kind with a journal part ------------------------------------------------------------------------

JOURNALED: frozenset[type[Effect]] = frozenset({
    ef.SendReserve, ef.ResendReserve, ef.SendCommit, ef.SendVoid, ef.SendOpen, ef.SendClose, ef.PrintSlip,
    ef.PrintReport, ef.RecordStage, ef.RecordExtension, ef.SetPolls, ef.Count, ef.Alarm,
    ef.RecordBranchCommitted, ef.RecordInstructions, ef.RecordMinutes, ef.PrintMinutes, ef.SendMinutes,
    ef.RecordMinutesAnswer, ef.RecordReconciled, ef.RecordPermit, ef.RecordPermitActivation, ef.RecordPermitCodeFailed,
    ef.RecordPermitEnd, ef.RecordPermitStoodDown, ef.CheckOffline, ef.RecordOfflineIssue, ef.SendOfflineIssue,
    ef.TellPeers,
})
"""The minutes' effects are tested in tests/runtime/test_minutes_journal.py, the OFFLINE slips' in
tests/runtime/test_offline_journal.py."""


def test_the_effects_with_a_journal_part_are_the_ones_tested_here() -> None:
    """A new effect kind that writes to the journal needs a test below that it is written before its action."""
    device_only = set(typing.get_args(journaling.Device))
    assert set(typing.get_args(Effect)) - device_only == JOURNALED


def test_send_open_is_in_the_outbox_before_it_is_published_and_the_answer_settles_it(rig: Rig) -> None:
    sent = open_polls(rig)
    at_publish = rig.requests.at(sent)
    row = at_publish.request(RequestKind.OPEN, sent)
    assert not row.answered
    assert at_publish.polls is PollsPhase.NOT_OPEN, "the phase changes only with the center's acknowledgement"
    assert rig.view().request(RequestKind.OPEN, sent).answered


def test_print_report_is_audited_before_the_zero_report_prints(rig: Rig) -> None:
    open_polls(rig)
    at_print = rig.prints.at("zero report")
    assert at_print.audited("report") == [{"kind": "zero"}]
    assert not any(row.kind is RequestKind.OPEN for row in at_print.outbox), "the open request follows the report"


def test_set_polls_is_journaled_before_the_operator_is_told(rig: Rig) -> None:
    open_polls(rig)
    assert rig.notices.at(Say.POLLS_OPEN).polls is PollsPhase.OPEN
    assert rig.signals.at(Signal.READY).polls is PollsPhase.OPEN
    rig.steps.act(SuspendRequested())
    assert rig.notices.at(Say.POLLS_SUSPENDED).polls is PollsPhase.SUSPENDED
    assert isinstance(rig.runtime.state, PollsSuspended)


def test_send_reserve_journals_the_transaction_and_its_request_before_publishing(rig: Rig) -> None:
    open_polls(rig)
    tx_id, sent = reserve(rig)
    at_publish = rig.requests.at(sent)
    row = at_publish.request(RequestKind.RESERVE, sent)
    assert (row.tx_id, row.answered) == (tx_id, False)
    record = at_publish.tx(tx_id)
    assert record.stage is TxStage.RESERVE_PENDING
    assert record.voter_hash == keyed_hash(VOTER_KEY, NationalCode(VOTER)), "only the keyed hash is kept at rest"
    assert VOTER.encode() not in sent, "the national code travels sealed"


def test_resend_reserve_counts_the_attempt_before_sending_the_same_bytes(rig: Rig) -> None:
    open_polls(rig)
    tx_id, sent = reserve(rig)
    rig.steps.act(DeadlineExpired(tx_id, DeadlineKind.RESERVE))
    assert isinstance(rig.runtime.state, NoAnswer)
    rig.steps.act(OperatorRetry())
    assert isinstance(rig.runtime.state, Reserving)
    assert rig.channel.published[-2:] == [sent, sent], "a resend is byte for byte the journaled request"
    first, again = rig.requests.views(lambda payload: payload == sent)
    assert first.request(RequestKind.RESERVE).attempts == 0
    assert again.request(RequestKind.RESERVE).attempts == 1


def test_print_slip_journals_printing_and_the_serial_before_the_printer_is_used(rig: Rig) -> None:
    open_polls(rig)
    tx_id, sent = reserve(rig)
    eligible(rig, sent)
    rig.steps.reached(Committing)
    at_print = rig.prints.at("slip 1")
    record = at_print.tx(tx_id)
    assert (record.stage, record.serial, record.inquiry_code) == (TxStage.PRINTING, 1, INQUIRY_CODE)
    assert at_print.request(RequestKind.RESERVE).answered, "the answer is marked in the step it permits"
    assert at_print.counts[Counter.ISSUED] == 0, "a slip counts once it is out"


def test_record_stage_is_committed_with_the_whole_step_before_its_first_action(rig: Rig) -> None:
    """ELIGIBLE: RecordStage, Indicate, PrintSlip in one step; the lamp already sees the code and the print intent."""
    open_polls(rig)
    tx_id, sent = reserve(rig)
    eligible(rig, sent)
    rig.steps.reached(Committing)
    record = rig.signals.at(Signal.ELIGIBLE).tx(tx_id)
    assert (record.inquiry_code, record.stage) == (INQUIRY_CODE, TxStage.PRINTING)


def test_send_commit_journals_commit_pending_and_the_count_before_publishing(rig: Rig) -> None:
    open_polls(rig)
    tx_id, sent = reserve(rig)
    eligible(rig, sent)
    rig.steps.reached(Committing)
    commit = rig.channel.published[-1]
    at_publish = rig.requests.at(commit)
    assert at_publish.request(RequestKind.COMMIT, commit).tx_id == tx_id
    record = at_publish.tx(tx_id)
    assert (record.stage, record.reprint_next) == (TxStage.COMMIT_PENDING, True), "a restart now reprints"
    assert at_publish.counts[Counter.ISSUED] == 1, "the count is journaled in the step, before the publish"
    rig.answer(commit, CommitAnswer(CommitOutcome.COMMITTED))
    rig.steps.reached(Idle)
    assert rig.signals.views(lambda signal: signal is Signal.READY)[-1].tx(tx_id).stage is TxStage.ISSUED
    assert all(row.answered for row in rig.view().outbox)


def test_send_void_journals_void_pending_and_the_count_before_publishing(rig: Rig) -> None:
    open_polls(rig)
    tx_id, _ = reserve(rig)
    rig.steps.act(OperatorCancelled())
    void = rig.channel.published[-1]
    at_publish = rig.requests.at(void)
    assert at_publish.request(RequestKind.VOID, void).tx_id == tx_id
    assert at_publish.tx(tx_id).stage is TxStage.VOID_PENDING
    assert at_publish.counts[Counter.VOIDED] == 1
    rig.answer(void, VoidAnswer(VoidOutcome.VOIDED))
    rig.steps.taken(VoidAnswered)
    assert rig.view().tx(tx_id).stage is TxStage.VOIDED


def test_count_and_record_stage_are_journaled_before_a_refusal_is_shown(rig: Rig) -> None:
    open_polls(rig)
    tx_id, sent = reserve(rig)
    first_at = rig.clock() - timedelta(minutes=30)
    rig.answer(sent, ReserveAnswer(ReserveOutcome.DUPLICATE, None, None, "B-0002", first_at, None))
    rig.steps.reached(VoterRefused)
    at_notice = rig.notices.views(lambda notice: isinstance(notice, Duplicate))[0]
    assert at_notice.tx(tx_id).stage is TxStage.REFUSED
    assert at_notice.counts[Counter.DUPLICATES_REFUSED] == 1
    assert rig.signals.at(Signal.REFUSED).counts[Counter.DUPLICATES_REFUSED] == 1


def test_send_close_journals_the_closed_phase_and_sends_the_journals_counts(rig: Rig) -> None:
    open_polls(rig)
    rig.runtime.type_national_code("0012345678", DocumentKind.BIRTH_CERTIFICATE)  # a wrong check digit
    rig.steps.act(OperatorDismissed())
    rig.clock.advance(timedelta(hours=11))
    rig.runtime.request_close()
    rig.steps.reached(Closing)
    close = rig.channel.published[-1]
    at_publish = rig.requests.at(close)
    assert at_publish.polls is PollsPhase.CLOSED
    assert not at_publish.request(RequestKind.CLOSE, close).answered
    assert decoded_close(close) == CloseCounts(0, 0, 0, 0, 0, 0, 1, 0), "the counts the journal held"
    assert rig.steps.taken(ReportPrinted).event.kind is ReportKind.ZERO
    assert rig.steps.taken(ReportPrinted).event.kind is ReportKind.CLOSING
    at_print = rig.prints.at("closing report")
    assert at_print.polls is PollsPhase.CLOSED
    assert at_print.audited("report") == [{"kind": "zero"}, {"kind": "closing"}]
    rig.answer(close, CloseAnswer(AckOutcome.ACK, 0))
    rig.steps.reached(PollsClosed)


def test_record_extension_journals_the_closing_time_before_the_operator_is_told(rig: Rig) -> None:
    open_polls(rig)
    until = rig.settings.closes_at + timedelta(hours=2)
    rig.runtime.broadcast_arrived(sign_extension(Extension(IDENTITY.district, until, rig.clock()), CENTER))
    rig.steps.reached(Idle)
    assert rig.notices.at(Extended(until)).closing_time == until
    assert rig.runtime.closes_at == until


def test_alarm_is_audited_before_the_operator_is_told(rig: Rig) -> None:
    open_polls(rig)
    rig.runtime.answer_arrived(b"not a signed answer")
    rig.steps.reached(Idle)
    alarms = rig.notices.at(Say.ANSWER_FORGED).audited("alarm")
    assert [alarm["alarm"] for alarm in alarms] == ["unverifiable_answer"]


# --- a step that cannot be journaled does nothing ----------------------------------------------------------------


def test_a_journal_inconsistency_rolls_back_the_whole_step_and_is_audited_as_a_fault(rig: Rig) -> None:
    open_polls(rig)
    tx_id, _ = reserve(rig)
    rig.steps.act(DeadlineExpired(tx_id, DeadlineKind.RESERVE))
    no_answer = rig.runtime.state
    assert isinstance(no_answer, NoAnswer)
    with sqlite3.connect(rig.path) as other:  # the reserve lost from the outbox: a journal the flow cannot trust
        other.execute("DELETE FROM outbox WHERE tx_id = ?", (tx_id,))
    other.close()
    before = rig.view()
    offered, shown = len(rig.channel.offered), len(rig.notices.items())

    rig.runtime.post(OperatorRetry())  # ResendReserve, StartDeadline, Show: the first raises in the transaction
    refused = rig.steps.act(SlipCameOut())  # any later step: the retry has been handled by then

    assert refused.before is no_answer and rig.runtime.state is no_answer, "the state did not move"
    assert len(rig.channel.offered) == offered, "nothing was published"
    assert len(rig.notices.items()) == shown, "the operator was not told anything for it"
    after = rig.view()
    assert after.audit[:len(before.audit)] == before.audit
    retry_steps = [d for d in after.audited("step") if d["event"] == "OperatorRetry"]
    assert retry_steps == [], "the step's own audit entry was rolled back with it"
    faults = after.audited("fault")
    assert len(faults) == 1 and faults[0]["handling"] == "OperatorRetry", faults
    assert faults[0]["fault"].startswith("JournalInconsistentError at runtime/journaling.py:")
    assert rig.runtime.faults == 1


def test_journal_effect_refuses_a_resend_of_a_reserve_the_outbox_does_not_hold(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    at = datetime.now(UTC)
    settings = settings_at(at)
    tx_id = "c" * 32
    with pytest.raises(JournalInconsistentError), journal.atomic():
        assert journal_effect(ef.Count(Counter.VOIDED), journal, settings, at) is None
        journal_effect(ef.ResendReserve(tx_id), journal, settings, at)
    assert journal.counts()[Counter.VOIDED] == 0, "the earlier write of the same transaction was rolled back"
    journal.close()


def test_after_a_restart_the_open_reserve_goes_out_again_byte_for_byte(tmp_path: Path) -> None:
    """What a restart reads (polls open, one voter waiting on the center) becomes the same reserve, re-sent."""
    before = make_rig(tmp_path)
    before.runtime.start()
    open_polls(before)
    tx_id, sent = reserve(before)
    before.runtime.stop()
    before.runtime.journal.close()

    after = make_rig(tmp_path)
    after.runtime.start()
    try:
        recovered = after.steps.reached(Reserving)
        assert (recovered.tx.tx_id, recovered.tx.recovered) == (tx_id, True)
        assert after.channel.published == [sent], "only the reserve is re-sent; the answered open is not"
        assert after.requests.at(sent).request(RequestKind.RESERVE, sent).attempts == 1
        eligible(after, sent)
        decision = after.steps.reached(RecoveryDecision)
        assert decision.question is RecoveryQuestion.PRINT_OR_VOID, "a recovered voter prints only if the operator says"
        assert after.prints.items() == []
    finally:
        after.runtime.stop()
        after.runtime.journal.close()


# --- the link down ------------------------------------------------------------------------------------------------


def test_a_request_the_link_cannot_send_stays_in_the_outbox_and_goes_out_unchanged_when_it_is_back(
        rig: Rig) -> None:
    open_polls(rig)
    rig.channel.connected = False
    rig.clock.advance(timedelta(hours=11))
    rig.runtime.request_close()
    rig.steps.reached(Closing)
    close = rig.channel.offered[-1]
    assert close not in rig.channel.published
    assert not rig.view().request(RequestKind.CLOSE, close).answered

    offered = len(rig.channel.offered)
    rig.channel.connected = True
    rig.runtime.connection_changed(True)
    resent = rig.channel.wait_offered(offered + 1)[-1]
    assert resent == close, "re-sent byte for byte: the same request and transaction ids, the same signature"
    assert rig.channel.published[-1] == close
    rig.answer(close, CloseAnswer(AckOutcome.ACK, 0))
    rig.steps.reached(PollsClosed)
    assert all(row.answered for row in rig.view().outbox)


def test_an_undelivered_reserve_is_not_sent_again_by_the_loop(rig: Rig) -> None:
    """Only the operator's retry re-sends a reserve (§2 rule 2): a voter the screen gave up on is not reserved."""
    open_polls(rig)
    rig.channel.connected = False
    _, sent = reserve(rig)
    rig.channel.connected = True
    rig.runtime.connection_changed(True)  # a tick: the loop re-sends what is unanswered, but not a reserve
    rig.steps.act(SlipCameOut())
    assert rig.channel.offered.count(sent) == 1 and sent not in rig.channel.published
    assert not rig.view().request(RequestKind.RESERVE, sent).answered


# --- a whole day with the real center, in memory ------------------------------------------------------------------


class InMemoryCenter:
    """The district center's real responder and registry behind a function call, answering into the runtime."""

    def __init__(self, folder: Path) -> None:
        self.registry = Registry(folder / "registry.db", datetime.now(UTC).date(), voter_key=registry_key(SEALING))
        voter = VoterRecord(NationalCode(VOTER), date(1980, 3, 21), "voter", VoterStatus.ELIGIBLE)
        assert self.registry.load_roll([voter]) == 1
        enrolled = EnrolledTerminal(IDENTITY.terminal, IDENTITY.branch, IDENTITY.district, "E-test",
                                    public_part(TERMINAL))
        self.responder = Responder(self.registry, IDENTITY.district, CENTER, SEALING,
                                   enrolled={IDENTITY.terminal: enrolled})
        self.dropped: list[Dropped] = []
        self.runtime: Runtime | None = None

    def handle(self, payload: bytes) -> None:
        outcome = self.responder.handle(request_topic(IDENTITY.district, IDENTITY.terminal), payload)
        if isinstance(outcome, Reply) and self.runtime is not None:
            self.runtime.answer_arrived(outcome.payload)
        elif isinstance(outcome, Dropped):
            self.dropped.append(outcome)


def test_a_day_with_one_voter_through_the_real_runtime_and_an_in_memory_center(tmp_path: Path) -> None:
    center = InMemoryCenter(tmp_path)
    reader = ScriptedReader()
    rig = make_rig(tmp_path, reader)
    center.runtime = rig.runtime
    rig.channel.respond = center.handle
    rig.runtime.start()
    try:
        rig.runtime.request_open()  # the self-test, the zero report, the open request and its answer
        rig.steps.reached(Idle)

        reader.insert(Document(DocumentKind.SMART_CARD, NationalCode(VOTER)))
        rig.steps.reached(AwaitingConfirmation)
        rig.steps.act(OperatorConfirmed())
        rig.steps.reached(Committing)
        rig.steps.reached(Idle)

        rig.runtime.type_national_code(VOTER, DocumentKind.BIRTH_CERTIFICATE)  # the same voter, once more
        rig.steps.reached(AwaitingConfirmation)
        rig.steps.act(OperatorConfirmed())
        refused = rig.steps.reached(VoterRefused)
        assert refused.outcome is ReserveOutcome.DUPLICATE
        assert isinstance(refused.notice, Duplicate) and refused.notice.first_branch == IDENTITY.branch
        rig.steps.act(OperatorDismissed())

        rig.clock.advance(timedelta(hours=11))
        rig.runtime.request_close()
        rig.steps.reached(PollsClosed)
        assert [rig.steps.taken(ReportPrinted).event.kind for _ in range(2)] == [ReportKind.ZERO, ReportKind.CLOSING]
        reservations = center.registry.reservations()
    finally:
        rig.runtime.stop()
        rig.runtime.journal.close()
        center.registry.close()

    assert center.dropped == [] and rig.runtime.faults == 0
    [reservation] = reservations
    assert reservation.state is ReservationState.COMMITTED
    jobs = rig.printer.jobs()
    assert [job.title for job in jobs] == ["zero report", "slip 1", "closing report"]
    assert jobs[1].qr == (reservation.inquiry_code,) and jobs[1].complete
    view = rig.view()
    issued = view.tx(reservation.tx_id)
    assert (issued.stage, issued.serial, issued.inquiry_code) == (TxStage.ISSUED, 1, reservation.inquiry_code)
    assert [tx.stage for tx in view.transactions.values()] == [TxStage.ISSUED, TxStage.REFUSED]
    assert [row.kind for row in view.outbox] == [RequestKind.OPEN, RequestKind.RESERVE, RequestKind.COMMIT,
                                                 RequestKind.RESERVE, RequestKind.CLOSE]
    assert all(row.answered for row in view.outbox)
    counts = decoded_close(rig.channel.published[-1])
    assert (counts.issued, counts.duplicates_refused) == (1, 1)


def _tick_timers() -> int:
    return sum(1 for thread in threading.enumerate() if isinstance(thread, threading.Timer) and thread.is_alive())


def test_reconnecting_ticks_at_once_without_adding_a_repeating_tick(rig: Rig) -> None:
    """Each reconnection resends at once; the repeating tick stays one timer (it used to grow by one each time,
    multiplying resends and heartbeats over a day with a flaky link)."""
    open_polls(rig)
    timers = _tick_timers()
    for _ in range(3):
        rig.runtime.connection_changed(True)
    rig.runtime.post(OperatorDismissed())
    rig.steps.taken(OperatorDismissed)
    assert _tick_timers() == timers


def test_a_journal_the_flow_cannot_start_from_is_an_audited_fault_not_a_dead_loop(tmp_path: Path) -> None:
    """Polls open and a reserve pending with no reserve in the outbox (a bug): start-up records the fault and
    the loop lives on, in Starting, which refuses everything."""
    seeded = Journal(tmp_path / "journal.db")
    with seeded.atomic():
        seeded.set_polls(PollsPhase.OPEN)
        seeded.add_transaction("c" * 32, DocumentKind.SMART_CARD, "0" * 64, False, datetime.now(UTC))
    seeded.close()
    made = make_rig(tmp_path)
    made.runtime.start()
    try:
        made.runtime.post(OperatorDismissed())
        made.steps.taken(OperatorDismissed)
        assert isinstance(made.runtime.state, Starting)
        faults = made.view().audited("fault")
        assert [fault["handling"] for fault in faults] == ["JournalLoaded"], faults
        assert "JournalInconsistentError" in faults[0]["fault"]
        assert made.runtime.faults == 1
    finally:
        made.runtime.stop()
        made.runtime.journal.close()
