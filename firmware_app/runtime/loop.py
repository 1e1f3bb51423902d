"""The event loop: one thread owns the flow state and the journal; everything else posts into its queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from firmware_app.flow.effects import Signal, StartDeadline
from firmware_app.flow.events import (
    AnswerUnverifiable,
    CardRemoved,
    ClosePollsRequested,
    ClosingExtended,
    DeadlineExpired,
    Event,
    FaceChecked,
    JournalLoaded,
    NationalCodeTyped,
    OpenPollsRequested,
    OperatorCancelled,
    OperatorConfirmed,
    OperatorRejected,
    ReportNotPrinted,
    ReportPrinted,
    TamperDetected,
)
from firmware_app.flow.states import Idle, PollsSuspended, ReportKind, Starting, State
from firmware_app.flow.step import Step, step
from firmware_app.identity.document import CardEvent
from firmware_app.identity.verdict import FaceVerdict
from firmware_app.runtime import devices, requests
from firmware_app.runtime.answers import answer_event
from firmware_app.runtime.bounds import answer_time_problem, extension_problem
from firmware_app.runtime.effects import EffectRunner
from firmware_app.runtime.faults import FaultPoints, NoFaults
from firmware_app.runtime.health import Health, run_self_test
from firmware_app.runtime.ports import Devices, OperatorDisplay, RequestChannel
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.slip import ReportHeader, SlipContent, compose_closing_report, compose_zero_report
from firmware_app.store.journal import Journal
from hal.buttons import ButtonEvent
from hal.indicators import IndicatorPattern
from hal.printer import PrintDocument, Printed
from protocol.codec import ProtocolError
from protocol.faults import fault_place
from protocol.messages import CloseCounts, DocumentKind, RequestKind
from protocol.seal import open_answer, open_extension

log = logging.getLogger(__name__)

Listener = Callable[[State, Event, Step], None]

_BUTTONS: dict[ButtonEvent, Callable[[], Event]] = {
    ButtonEvent.CONFIRM: OperatorConfirmed,
    ButtonEvent.REJECT: OperatorRejected,
    ButtonEvent.CANCEL: OperatorCancelled,
    ButtonEvent.TAMPER: TamperDetected,
}


@dataclass(frozen=True)
class _Received:
    payload: bytes
    broadcast: bool


@dataclass(frozen=True)
class _CardChanged:
    change: CardEvent


@dataclass(frozen=True)
class _Tick:
    pass


@dataclass(frozen=True)
class _DeviceFault:
    """A bug met on a device thread, to be audited by the loop (which alone writes the journal)."""

    handling: str
    place: str


@dataclass(frozen=True)
class _Stop:
    pass


_Message = Event | _Received | _CardChanged | _Tick | _DeviceFault | _Stop


class Runtime:
    """Owns the state. `post`, `answer_arrived` and `broadcast_arrived` may be called from any thread."""

    def __init__(
        self,
        settings: RuntimeSettings,
        journal: Journal,
        channel: RequestChannel,
        equipment: Devices,
        display: OperatorDisplay,
        clock: Callable[[], datetime],
        faults: FaultPoints | None = None,
        connected: Callable[[], bool] = lambda: True,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self._channel = channel
        self._devices = equipment
        self._clock = clock
        self._connected = connected
        self._heartbeat = heartbeat
        self._faults = faults or NoFaults()
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._state: State = Starting()
        self._listeners: list[Listener] = []
        self._deadline: threading.Timer | None = None
        self._tick_timer: threading.Timer | None = None
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="device")
        self._thread: threading.Thread | None = None
        self.faults = 0
        """Bugs met by the loop (each audited as an alarm); the operator screen and telemetry show it."""
        self.closes_at = journal.closing_time() or settings.closes_at
        self._runner = EffectRunner(settings, journal, channel, display, self)

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
        self._queue.put(_Received(payload, broadcast=False))

    def broadcast_arrived(self, payload: bytes) -> None:
        self._queue.put(_Received(payload, broadcast=True))

    def connection_changed(self, connected: bool) -> None:
        if connected:
            self._queue.put(_Tick())

    def type_national_code(self, text: str, document: DocumentKind) -> NationalCodeTyped:
        """The operator typed a national code from a document without a chip; a fresh transaction id."""
        event = NationalCodeTyped(requests.new_id(), text, document)
        self.post(event)
        return event

    def request_open(self) -> None:
        """The operator asks to open the polls; the flow refuses before the configured hour."""
        self.post(OpenPollsRequested(self._clock(), self.settings.opens_at))

    def request_close(self) -> None:
        """The operator asks to close; the flow refuses before the closing time (as extended)."""
        self.post(ClosePollsRequested(self._clock(), self.closes_at))

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="event-loop", daemon=True)
        self._thread.start()

    def run(self) -> None:
        self._dispatch(JournalLoaded(self.journal.polls_phase(), self.journal.open_foreground()))
        self._resend_unanswered()
        equipment = self._devices
        if equipment.reader is not None:
            equipment.reader.start(lambda change: self._queue.put(_CardChanged(change)))
        if equipment.buttons is not None:
            equipment.buttons.start(lambda pressed: self._queue.put(_BUTTONS[pressed]()))
        self._schedule_tick()
        while True:
            message = self._queue.get()
            if isinstance(message, _Stop):
                return
            try:
                self._handle(message)
            except Exception as exc:  # nothing from outside may end the loop: the fault is audited, an alarm
                self._alarm(type(message).__name__, exc)
            if isinstance(message, _Tick):
                self._schedule_tick()

    def _handle(self, message: _Message) -> None:
        match message:
            case _Received(payload=payload, broadcast=broadcast):
                (self._broadcast if broadcast else self._answer)(payload)
            case _CardChanged(change=change):
                self._card(change)
            case _Tick():
                self._heartbeat()
                self._resend_unanswered()
                self._close_if_due()
            case _DeviceFault(handling=handling, place=place):
                self._record_fault(handling, place)
            case _Stop():
                pass
            case _:
                self._dispatch(message)

    def _alarm(self, handling: str, exc: Exception) -> None:
        """A bug met while handling a message: the state stays as it was (a step that raised changed
        nothing), the journal records the alarm, and the loop goes on with the next message."""
        self._record_fault(handling, fault_place(exc))

    def device_fault(self, handling: str, exc: Exception) -> None:
        """Called on a device thread when a driver raised (a bug, not a device status): the loop audits it."""
        self._queue.put(_DeviceFault(handling, fault_place(exc)))

    def _record_fault(self, handling: str, place: str) -> None:
        self.faults += 1
        log.error("ALARM: handling %s raised %s", handling, place)
        try:
            with self.journal.atomic():
                self.journal.audit(self._clock(), "fault", {"handling": handling, "fault": place})
        except Exception as journal_exc:  # the journal itself failing: logged, the loop still goes on
            log.critical("ALARM: the journal could not record an alarm: %s", fault_place(journal_exc))

    def stop(self) -> None:
        self._queue.put(_Stop())
        if self._thread is not None:
            self._thread.join(timeout=10)
        for timer in (self._deadline, self._tick_timer):
            if timer is not None:
                timer.cancel()
        self._workers.shutdown(wait=True, cancel_futures=True)
        for device in (self._devices.reader, self._devices.buttons):
            if device is not None:
                device.close()

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
        if isinstance(result.state, Idle | PollsSuspended) and type(before) is not type(result.state):
            self._close_if_due()

    # --- the center's messages ----------------------------------------------------------------

    def _answer(self, payload: bytes) -> None:
        opened = open_answer(payload, self.settings.center_signing_key)
        if isinstance(opened, ProtocolError):
            self._dispatch(AnswerUnverifiable(str(opened)))
            return
        out_of_bounds = answer_time_problem(opened, self.settings, self._clock())
        if out_of_bounds is not None:
            self._dispatch(AnswerUnverifiable(out_of_bounds))
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
        self._dispatch(answer_event(opened, self._clock(), self.settings.clock_tolerance), answered=entry.request_id)

    def _broadcast(self, payload: bytes) -> None:
        """A district broadcast (possibly a retained one at start-up): applied only if it verifies and its
        times are within bounds; anything else changes nothing and is audited."""
        extension = open_extension(payload, self.settings.center_signing_key)
        problem = (str(extension) if isinstance(extension, ProtocolError)
                   else extension_problem(extension, self.settings, self.closes_at, self._clock()))
        if problem is not None or isinstance(extension, ProtocolError):
            log.warning("refused a district broadcast: %s", problem)
            with self.journal.atomic():
                self.journal.audit(self._clock(), "broadcast_refused", {"reason": problem})
            return
        self._dispatch(ClosingExtended(extension.closes_at))

    def _resend_unanswered(self) -> None:
        """Commits, voids and poll reports are re-sent until answered; a reserve only when the flow says."""
        for entry in self.journal.unanswered():
            if entry.kind is not RequestKind.RESERVE:
                self._channel.publish_request(entry.payload)

    def _close_if_due(self) -> None:
        if isinstance(self._state, Idle | PollsSuspended) and self._clock() >= self.closes_at:
            self.post(ClosePollsRequested(self._clock(), self.closes_at))

    def _schedule_tick(self) -> None:
        self._tick_timer = threading.Timer(self.settings.resend_interval, self._queue.put, (_Tick(),))
        self._tick_timer.daemon = True
        self._tick_timer.start()

    # --- Shell: effects that reach devices and timers -------------------------------------------

    def _card(self, change: CardEvent) -> None:
        match change:
            case CardEvent.INSERTED if isinstance(self._state, Idle) and self._devices.reader is not None:
                self._workers.submit(devices.read_card, self._devices.reader, self.post, self.device_fault)
            case CardEvent.REMOVED:
                self._dispatch(CardRemoved())
            case _:
                log.info("card reader: %s", change.value)

    def check_printer(self, tx_id: str) -> None:
        self._workers.submit(devices.check_printer, self._devices.printer, tx_id, self.post, self.device_fault)

    def check_face(self, tx_id: str, photo: bytes) -> None:
        face_check = self._devices.face_check
        if face_check is None:
            self.post(FaceChecked(tx_id, FaceVerdict.UNAVAILABLE, None, "دوربین نصب نیست"))
            return
        self._workers.submit(devices.check_face, face_check, tx_id, photo, self.post, self.device_fault)

    def run_self_test(self) -> None:
        def link() -> Health:
            return Health("ارتباط با ستاد", self._connected(), True, "" if self._connected() else "برقرار نیست")

        def printer() -> Health:
            status = self._devices.printer.status()
            return Health("چاپگر", status.can_print, True, status.detail or status.state.value)

        checks = [printer, link, *self._devices.health_checks]
        self._workers.submit(lambda: self.post(run_self_test(checks, self.device_fault)[0]))

    def print_slip(self, tx_id: str, slip: SlipContent) -> None:
        self._workers.submit(devices.print_slip, self._devices.printer, slip, self._devices.paper_width_dots,
                             tx_id, self.post, self._faults, self.device_fault)

    def print_report(self, kind: ReportKind, counts: CloseCounts, at: datetime) -> None:
        settings = self.settings
        header = ReportHeader(settings.identity.terminal, settings.identity.branch, settings.software_version,
                              settings.software_hash, settings.config_hash, at, settings.training)
        width = self._devices.paper_width_dots
        document: PrintDocument = (compose_zero_report(header, width) if kind is ReportKind.ZERO
                                   else compose_closing_report(header, counts, width))

        def job() -> None:
            try:
                result = self._devices.printer.print_document(document)
            except Exception as exc:
                self.device_fault(f"printing the {kind.value} report", exc)
                self.post(ReportNotPrinted(kind, "internal error"))
                return
            if isinstance(result, Printed):
                self.post(ReportPrinted(kind))
            else:
                self.post(ReportNotPrinted(kind, result.status.detail or result.status.state.value))

        self._workers.submit(job)

    def extend_to(self, until: datetime) -> None:
        self.closes_at = until

    def indicate(self, signal: Signal) -> None:
        if self._devices.indicators is not None:
            self._devices.indicators.show(IndicatorPattern(signal.value))

    def start_deadline(self, effect: StartDeadline) -> None:
        self._cancel_deadline()
        seconds = self.settings.deadlines[effect.kind]
        self._deadline = threading.Timer(seconds, self.post, (DeadlineExpired(effect.tx_id, effect.kind),))
        self._deadline.daemon = True
        self._deadline.start()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
