"""The event loop: one thread owns the flow state and the journal; everything else posts into its queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.effects import StartDeadline
from firmware_app.flow.events import (
    AnswerUnverifiable,
    CardRemoved,
    CloseAcknowledged,
    CommitAnswered,
    DeadlineExpired,
    DocumentPresented,
    DocumentUnacceptable,
    Event,
    JournalLoaded,
    OpenAcknowledged,
    PrinterChecked,
    PrintSucceeded,
    PrintUnsuccessful,
    ReserveAnswered,
    VoidAnswered,
)
from firmware_app.flow.states import Idle, Starting, State
from firmware_app.flow.step import Step, step
from firmware_app.identity.document import (
    CardEvent,
    Document,
    DocumentProblem,
    DocumentReader,
    DocumentRefusal,
)
from firmware_app.runtime import requests
from firmware_app.runtime.effects import EffectRunner
from firmware_app.runtime.faults import FaultPoints, NoFaults
from firmware_app.runtime.ports import (
    Indicators,
    OperatorDisplay,
    RequestChannel,
    SlipComposer,
    SlipRequest,
)
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.store.journal import Journal
from hal.printer import Printed, Printer, PrintFailed, PrintStage
from protocol.codec import ProtocolError
from protocol.messages import (
    AckAnswer,
    Answer,
    CommitAnswer,
    RequestKind,
    ReserveAnswer,
    VoidAnswer,
)
from protocol.seal import open_answer

log = logging.getLogger(__name__)

Listener = Callable[[State, Event, Step], None]


@dataclass(frozen=True)
class _AnswerArrived:
    payload: bytes


@dataclass(frozen=True)
class _CardChanged:
    change: CardEvent


@dataclass(frozen=True)
class _ResendTick:
    pass


@dataclass(frozen=True)
class _Stop:
    pass


_Message = Event | _AnswerArrived | _CardChanged | _ResendTick | _Stop


class Runtime:
    """Owns the state. `post` and `answer_arrived` may be called from any thread."""

    def __init__(
        self,
        settings: RuntimeSettings,
        journal: Journal,
        channel: RequestChannel,
        printer: Printer,
        composer: SlipComposer,
        display: OperatorDisplay,
        indicators: Indicators,
        clock: Callable[[], datetime],
        reader: DocumentReader | None = None,
        faults: FaultPoints | None = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self._channel = channel
        self._printer = printer
        self._composer = composer
        self._reader = reader
        self._clock = clock
        self._faults = faults or NoFaults()
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._state: State = Starting()
        self._listeners: list[Listener] = []
        self._deadline: threading.Timer | None = None
        self._resend_timer: threading.Timer | None = None
        self._devices = ThreadPoolExecutor(max_workers=2, thread_name_prefix="device")
        self._thread: threading.Thread | None = None
        self._runner = EffectRunner(settings, journal, channel, display, indicators, self._print,
                                    self._arm_deadline, self._check_printer)

    @property
    def state(self) -> State:
        return self._state

    def add_listener(self, listener: Listener) -> None:
        """Called on the loop's thread after every step (operator screen, telemetry, tests)."""
        self._listeners.append(listener)

    # --- entry points for other threads -------------------------------------------------------

    def post(self, event: Event) -> None:
        self._queue.put(event)

    def answer_arrived(self, payload: bytes) -> None:
        self._queue.put(_AnswerArrived(payload))

    def connection_changed(self, connected: bool) -> None:
        if connected:
            self._queue.put(_ResendTick())

    def new_tx_id(self) -> str:
        return requests.new_id()

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="event-loop", daemon=True)
        self._thread.start()

    def run(self) -> None:
        self._dispatch(JournalLoaded(self.journal.polls_phase(), self.journal.open_foreground()))
        self._resend_unanswered(include_reserves=False)
        if self._reader is not None:
            self._reader.start(lambda change: self._queue.put(_CardChanged(change)))
        self._schedule_resend()
        while True:
            message = self._queue.get()
            match message:
                case _Stop():
                    return
                case _AnswerArrived(payload=payload):
                    self._answer(payload)
                case _CardChanged(change=change):
                    self._card(change)
                case _ResendTick():
                    self._resend_unanswered(include_reserves=False)
                    self._schedule_resend()
                case _:
                    self._dispatch(message)

    def stop(self) -> None:
        self._queue.put(_Stop())
        if self._thread is not None:
            self._thread.join(timeout=10)
        for timer in (self._deadline, self._resend_timer):
            if timer is not None:
                timer.cancel()
        self._devices.shutdown(wait=True, cancel_futures=True)
        if self._reader is not None:
            self._reader.close()

    # --- the one place state changes ----------------------------------------------------------

    def _dispatch(self, event: Event, answered: str | None = None) -> None:
        before = self._state
        result = step(before, event)
        at = self._clock()
        with self.journal.atomic():
            if answered is not None:
                self.journal.mark_answered(answered, at)
            self.journal.audit(at, "step", {
                "event": type(event).__name__, "from": type(before).__name__,
                "to": type(result.state).__name__, "refusal": result.refusal,
            })
            actions = [(effect, self._runner.journal(effect, at)) for effect in result.effects]
        self._faults.reached(f"journaled {type(event).__name__}")
        self._state = result.state
        if type(result.state) is not type(before) and not any(isinstance(e, StartDeadline) for e in result.effects):
            self._cancel_deadline()
        if result.refusal is not None:
            log.info("refused %s in %s: %s", type(event).__name__, type(before).__name__, result.refusal)
        for effect, action in actions:
            if action is not None:
                action()
                self._faults.reached(f"done {type(effect).__name__}")
        for listener in self._listeners:
            listener(before, event, result)

    # --- the center's answers -----------------------------------------------------------------

    def _answer(self, payload: bytes) -> None:
        opened = open_answer(payload, self.settings.center_signing_key)
        if isinstance(opened, ProtocolError):
            self._dispatch(AnswerUnverifiable(str(opened)))
            return
        header = opened.header
        if header.terminal != self.settings.identity.terminal:
            self._dispatch(AnswerUnverifiable("answer addressed to another terminal"))
            return
        entry = self.journal.pending(header.request_id)
        if entry is None:
            with self.journal.atomic():
                self.journal.audit(self._clock(), "answer_dropped", {"reason": "unknown or already answered"})
            log.warning("dropped an answer to an unknown or already answered request")
            return
        if entry.tx_id != header.tx_id or entry.kind is not opened.kind:
            self._dispatch(AnswerUnverifiable("answer does not match its request"))
            return
        self._dispatch(_answer_event(opened), answered=entry.request_id)

    def _resend_unanswered(self, *, include_reserves: bool) -> None:
        for entry in self.journal.unanswered():
            if entry.kind is RequestKind.RESERVE and not include_reserves:
                continue
            self._channel.publish_request(entry.payload)

    def _schedule_resend(self) -> None:
        self._resend_timer = threading.Timer(self.settings.resend_interval, self._queue.put, (_ResendTick(),))
        self._resend_timer.daemon = True
        self._resend_timer.start()

    # --- devices --------------------------------------------------------------------------------

    def _card(self, change: CardEvent) -> None:
        match change:
            case CardEvent.INSERTED if isinstance(self._state, Idle) and self._reader is not None:
                self._devices.submit(self._read_card, self._reader)
            case CardEvent.REMOVED:
                self._dispatch(CardRemoved())
            case _:
                log.info("card reader: %s", change.value)

    def _read_card(self, reader: DocumentReader) -> None:
        try:
            result: Document | DocumentRefusal = reader.read()
        except Exception:
            log.exception("document reader failed")
            result = DocumentRefusal(DocumentProblem.UNREADABLE, "کارت خوانده نشد؛ دوباره وارد کنید.")
        if isinstance(result, Document):
            self.post(DocumentPresented(requests.new_id(), result))
        else:
            self.post(DocumentUnacceptable(result))

    def _check_printer(self, tx_id: str) -> None:
        self._devices.submit(self._printer_check_job, tx_id)

    def _printer_check_job(self, tx_id: str) -> None:
        try:
            status = self._printer.status()
        except Exception:
            log.exception("printer status failed")
            self.post(PrinterChecked(tx_id, False, "internal error"))
            return
        self.post(PrinterChecked(tx_id, status.can_print, status.detail or status.state.value))

    def _print(self, tx_id: str, slip: SlipRequest) -> None:
        self._devices.submit(self._print_job, tx_id, slip)

    def _print_job(self, tx_id: str, slip: SlipRequest) -> None:
        try:
            result = self._printer.print_document(self._composer(slip))
        except Exception:
            log.exception("printing failed")
            self.post(PrintUnsuccessful(tx_id, PrintStage.DURING, "internal error"))
            return
        self._faults.reached(f"printer returned {type(result).__name__}")
        match result:
            case Printed():
                self.post(PrintSucceeded(tx_id))
            case PrintFailed(stage=stage, status=status):
                self.post(PrintUnsuccessful(tx_id, stage, status.detail or status.state.value))

    def _arm_deadline(self, effect: StartDeadline) -> None:
        self._cancel_deadline()
        seconds = self.settings.deadlines[effect.kind]
        self._deadline = threading.Timer(seconds, self.post, (DeadlineExpired(effect.tx_id, effect.kind),))
        self._deadline.daemon = True
        self._deadline.start()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def _answer_event(answer: Answer) -> Event:
    tx_id = answer.header.tx_id
    match answer.body:
        case ReserveAnswer():
            return ReserveAnswered(tx_id, answer.body)
        case CommitAnswer(outcome=outcome):
            return CommitAnswered(tx_id, outcome)
        case VoidAnswer(outcome=outcome):
            return VoidAnswered(tx_id, outcome)
        case AckAnswer():
            return OpenAcknowledged() if answer.kind is RequestKind.OPEN else CloseAcknowledged()
