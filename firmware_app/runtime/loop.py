"""The event loop: one thread owns the flow state and the journal; everything else posts into its queue."""

from __future__ import annotations

import collections
import enum
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from firmware_app.flow.effects import Alarm
from firmware_app.flow.events import (
    AnswerUnverifiable,
    ButtonPressed,
    CardInserted,
    CardRemoved,
    ClockTicked,
    ClosePollsRequested,
    Event,
    JournalLoaded,
    NationalCodeTyped,
    OpenPollsRequested,
)
from firmware_app.flow.states import PollsDay, PollsPhase, Starting, State
from firmware_app.flow.step import Step, step
from firmware_app.identity.document import CardEvent
from firmware_app.runtime import requests
from firmware_app.runtime.answers import answer_event
from firmware_app.runtime.bounds import answer_time_problem
from firmware_app.runtime.broadcasts import BroadcastRefused, broadcast_event
from firmware_app.runtime.facts import LinkFigures, LoopFacts
from firmware_app.runtime.faults import FaultPoints, NoFaults
from firmware_app.runtime.journaling import Publish, journal_effect
from firmware_app.runtime.peer_slips import PeerSlips
from firmware_app.runtime.permit_intake import held_permits
from firmware_app.runtime.ports import Devices, OperatorDisplay, RequestChannel
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.runtime.shell import Shell
from firmware_app.runtime.snapshots import VotedSnapshots
from firmware_app.store.journal import Journal
from hal.buttons import ButtonEvent
from protocol.codec import ProtocolError
from protocol.faults import fault_place
from protocol.messages import Answer, DocumentKind, MinutesAnswer, RequestKind
from protocol.peer_slip import peer_key
from protocol.seal import open_answer

log = logging.getLogger(__name__)

Listener = Callable[[State, Event, Step[State]], None]
class ActionNotTaken(enum.Enum):
    """Why an operator's action gave no step: the state had moved on, or stepping it raised (a bug, audited)."""

    STALE = "stale"
    FAULT = "fault"


ActionDone = Callable[[Step[State] | ActionNotTaken], None]
"""Called on the loop's thread with an action's step, or why it gave none."""


@dataclass(frozen=True)
class _Received:
    payload: bytes
    broadcast: bool


@dataclass(frozen=True)
class _SnapshotChunkArrived:
    payload: bytes


@dataclass(frozen=True)
class _PeerSlipArrived:
    topic: str
    payload: bytes


@dataclass(frozen=True)
class _CardChanged:
    change: CardEvent


@dataclass(frozen=True)
class _Pressed:
    button: ButtonEvent


@dataclass(frozen=True)
class _Tick:
    """The loop's periodic work (resends, the watchdog, the clock); only the timer's own tick schedules the next."""

    scheduled: bool = True


@dataclass(frozen=True)
class _DeviceFault:
    """A bug met on a device thread, to be audited by the loop (which alone writes the journal)."""

    handling: str
    place: str


@dataclass(frozen=True)
class _Action:
    """An operator's action from the screen: the event, who signed in for it, the state they saw."""

    event: Event
    official: str
    seen: State
    done: ActionDone


@dataclass(frozen=True)
class _Audit:
    """An audit entry from another thread (the screen's sign-ins and refused requests), written by the loop."""

    kind: str
    detail: dict[str, str | int | None]


@dataclass(frozen=True)
class _FactsWanted:
    """Telemetry asks what only the loop knows; `answer` is called on the loop's thread."""

    answer: Callable[[LoopFacts], None]


@dataclass(frozen=True)
class _Stop:
    pass


_Message = (Event | _Received | _SnapshotChunkArrived | _PeerSlipArrived | _CardChanged | _Pressed | _Tick | _DeviceFault | _Action | _Audit | _FactsWanted
            | _Stop)


class Runtime:
    """Owns the state. `post`, `answer_arrived` and `broadcast_arrived` may be called from any thread.

    The loop turns what arrives into flow events (stamping the time where the flow needs it), steps the flow,
    journals each step and its effects in one transaction, then hands what is left to the shell. It decides
    nothing itself: that is all in `firmware_app/flow/`."""

    def __init__(
        self,
        settings: RuntimeSettings,
        journal: Journal,
        channel: RequestChannel,
        devices: Devices,
        display: OperatorDisplay,
        clock: Callable[[], datetime],
        faults: FaultPoints | None = None,
        connected: Callable[[], bool] = lambda: True,
        heartbeat: Callable[[], None] = lambda: None,
        snapshot_folder: Path | None = None,
    ) -> None:
        """`snapshot_folder`: where the "already voted" snapshot's parts are kept across a restart (None: in
        memory only)."""
        self.settings = settings
        self.journal = journal
        self._channel = channel
        self._devices = devices
        self._clock = clock
        self._heartbeat = heartbeat
        self._faults = faults or NoFaults()
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._state: State = Starting()
        self._listeners: list[Listener] = []
        self._tick_timer: threading.Timer | None = None
        self._thread: threading.Thread | None = None
        self.faults = 0
        """Bugs met by the loop (each audited as an alarm); the operator screen and telemetry show it."""
        self._alarms: collections.Counter[str] = collections.Counter()
        self._link = LinkFigures()
        self.snapshots = VotedSnapshots(settings.identity.district, settings.center_signing_key, snapshot_folder)
        """The "already voted" snapshots the district published, for the check before an OFFLINE slip."""
        self.peers = PeerSlips(settings.identity.terminal)
        """The OFFLINE slips other terminals of the district told of, for the same check."""
        self._shell = Shell(settings, devices, channel, display, self.post, self.device_fault, self._faults,
                            connected)

    @property
    def state(self) -> State:
        return self._state

    @property
    def closes_at(self) -> datetime:
        """The closing time as the flow holds it, extended or not (the set one before the journal is read)."""
        state = self._state
        return self.settings.closes_at if isinstance(state, Starting) else state.day.closes_at

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

    def snapshot_arrived(self, payload: bytes) -> None:
        self._queue.put(_SnapshotChunkArrived(payload))

    def peer_slip_arrived(self, topic: str, payload: bytes) -> None:
        self._queue.put(_PeerSlipArrived(topic, payload))

    def connection_changed(self, connected: bool) -> None:
        if connected:
            self._queue.put(_Tick(scheduled=False))

    def type_national_code(self, text: str, document: DocumentKind) -> NationalCodeTyped:
        """The operator typed a national code from a document without a chip; a fresh transaction id."""
        event = NationalCodeTyped(requests.new_id(), text, document)
        self.post(event)
        return event

    def request_open(self) -> None:
        """The operator asks to open the polls; the flow refuses before the day's opening hour."""
        self.post(OpenPollsRequested(self._clock()))

    def request_close(self) -> None:
        """The operator asks to close; the flow refuses before the closing time (as extended)."""
        self.post(ClosePollsRequested(self._clock()))

    def act(self, event: Event, official: str, seen: State, done: ActionDone) -> None:
        """An operator's action, stepped like any event and audited with `official`, only if the state is still
        `seen` (the one the screen showed); `done` gets the step, or why there is none."""
        self._queue.put(_Action(event, official, seen, done))

    def facts_later(self, answer: Callable[[LoopFacts], None]) -> None:
        """What telemetry reports of the loop, handed to `answer` on the loop's thread (it must only post)."""
        self._queue.put(_FactsWanted(answer))

    def audit_later(self, kind: str, detail: dict[str, str | int | None]) -> None:
        """An audit entry from any thread; the loop writes it (it alone writes the journal)."""
        self._queue.put(_Audit(kind, dict(detail)))

    def device_fault(self, handling: str, exc: Exception) -> None:
        """Called on a device thread when a driver raised (a bug, not a device status): the loop audits it."""
        self._queue.put(_DeviceFault(handling, fault_place(exc)))

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="event-loop", daemon=True)
        self._thread.start()

    def run(self) -> None:
        try:
            self._alarms.update(self.journal.alarm_counts())
            self._dispatch(self._journal_loaded())
            self._resend_unanswered()
        except Exception as exc:  # a journal the flow cannot start from: audited; the loop waits in Starting
            self._record_fault("JournalLoaded", fault_place(exc))
        devices = self._devices
        if devices.reader is not None:
            devices.reader.start(lambda change: self._queue.put(_CardChanged(change)))
        if devices.buttons is not None:
            devices.buttons.start(lambda pressed: self._queue.put(_Pressed(pressed)))
        self._schedule_tick()
        while True:
            message = self._queue.get()
            if isinstance(message, _Stop):
                return
            try:
                self._handle(message)
            except Exception as exc:  # nothing from outside may end the loop: the fault is audited, an alarm
                self._record_fault(type(message).__name__, fault_place(exc))
            if isinstance(message, _Tick) and message.scheduled:
                self._schedule_tick()

    def stop(self) -> None:
        self._queue.put(_Stop())
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        self._shell.close()
        for device in (self._devices.reader, self._devices.buttons):
            if device is not None:
                device.close()

    def _journal_loaded(self) -> JournalLoaded:
        journal = self.journal
        polls = journal.polls_phase()
        minutes = journal.minutes_stage() if polls is PollsPhase.CLOSED else None
        return JournalLoaded(polls, journal.open_foreground(), self._day(), minutes)

    def _day(self) -> PollsDay:
        settings = self.settings
        election = settings.election.bundle if settings.election is not None else None
        return PollsDay(settings.opens_at, self.journal.closing_time() or settings.closes_at,
                        settings.closes_at + settings.longest_extension, election=election,
                        instructions=self.journal.instructions(),
                        permits=held_permits(self.journal.permits(), settings))

    # --- what arrives, as flow events -------------------------------------------------------------

    def _handle(self, message: _Message) -> None:
        match message:
            case _Received(payload=payload, broadcast=broadcast):
                (self._broadcast if broadcast else self._answer)(payload)
            case _SnapshotChunkArrived(payload=payload):
                self._snapshot_chunk(payload)
            case _PeerSlipArrived(topic=topic, payload=payload):
                self._peer_slip(topic, payload)
            case _CardChanged(change=CardEvent.INSERTED):
                self._dispatch(CardInserted())
            case _CardChanged(change=CardEvent.REMOVED):
                self._dispatch(CardRemoved())
            case _CardChanged(change=change):
                log.info("card reader: %s", change.value)
            case _Pressed(button=button):
                self._dispatch(ButtonPressed(button, self._clock()))
            case _Tick():
                self._heartbeat()
                self._resend_unanswered()
                self._dispatch(ClockTicked(self._clock()))
            case _DeviceFault(handling=handling, place=place):
                self._record_fault(handling, place)
            case _Action(event=event, official=official, seen=seen, done=done):
                if self._state is not seen:
                    with self.journal.atomic():
                        self.journal.audit(self._clock(), "action_stale", {
                            "event": type(event).__name__, "official": official, "state": type(self._state).__name__})
                    done(ActionNotTaken.STALE)
                    return
                try:
                    result = self._dispatch(event, official=official)
                except Exception:
                    done(ActionNotTaken.FAULT)
                    raise
                done(result)
            case _Audit(kind=kind, detail=detail):
                with self.journal.atomic():
                    self.journal.audit(self._clock(), kind, detail)
            case _FactsWanted(answer=answer):
                answer(LoopFacts(self.journal.polls_phase(), self.journal.close_counts(), self.journal.outbox_backlog(),
                                 dict(self._alarms), self._link.rtt_ms, self._link.clock_offset_ms))
            case _Stop():
                pass
            case _:
                self._dispatch(message)

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
        if entry.tx_id != header.tx_id or entry.kind is not opened.kind or not self._minutes_match(opened):
            self._dispatch(AnswerUnverifiable("answer does not match its request"))
            return
        self._link.answered(entry.request_id, header.center_time, self._clock())
        self._dispatch(answer_event(opened, self._clock(), self.settings.clock_tolerance), answered=entry.request_id)

    def _minutes_match(self, answer: Answer) -> bool:
        """A minutes answer must name the hash of the minutes the journal holds (those its request carried)."""
        if not isinstance(answer.body, MinutesAnswer):
            return True
        recorded = self.journal.minutes()
        return recorded is not None and recorded.minutes_hash == answer.body.minutes_hash

    def _broadcast(self, payload: bytes) -> None:
        """A district broadcast (possibly a retained one at start-up) that does not verify, or is not for this
        district and day, changes nothing and is audited; one that does is the flow's to judge."""
        taken = broadcast_event(payload, self.settings, self._clock())
        if isinstance(taken, BroadcastRefused):
            log.warning("refused a district broadcast (%s): %s", taken.kind, taken.reason)
            with self.journal.atomic():
                self.journal.audit(self._clock(), "broadcast_refused", {"reason": taken.reason, "kind": taken.kind})
            return
        self._dispatch(taken)

    def _snapshot_chunk(self, payload: bytes) -> None:
        """A part of the district's "already voted" snapshot: refused ones (a signature, a conflict, a foreign
        scope) are audited and alarmed; a version installed is audited with its size."""
        outcome = self.snapshots.take(payload)
        if outcome.refusal is not None:
            log.warning("ALARM: refused a snapshot chunk: %s", outcome.refusal)
            self._alarms["snapshot_refused"] += 1
            with self.journal.atomic():
                self.journal.audit(self._clock(), "snapshot_refused", {"reason": outcome.refusal})
        elif outcome.installed is not None:
            held = outcome.installed
            with self.journal.atomic():
                self.journal.audit(self._clock(), "snapshot_installed", {
                    "version": held.version, "voters": len(held.voters),
                    "committed_until": held.committed_until.isoformat()})

    def _peer_slip(self, topic: str, payload: bytes) -> None:
        """Another terminal's OFFLINE slip, checked at once against a permit held here; a refused line is audited
        and alarmed (only a broken or hostile terminal of the district sends one)."""
        state = self._state
        permits = {} if isinstance(state, Starting) else {held.permit_id: held for held in state.day.permits}

        def key_of(permit_id: str) -> bytes | None:
            held = permits.get(permit_id)
            return None if held is None else peer_key(held.secrets)

        refused = self.peers.take(topic, payload, key_of)
        if refused is not None:
            log.warning("ALARM: refused a peer's OFFLINE slip line: %s", refused)
            self._alarms["peer_slip_refused"] += 1
            with self.journal.atomic():
                self.journal.audit(self._clock(), "peer_slip_refused", {"reason": refused})

    def _resend_unanswered(self) -> None:
        """Commits, voids, poll reports and the minutes are re-sent until answered; a reserve only when the flow says."""
        for entry in self.journal.unanswered():
            if entry.kind is not RequestKind.RESERVE:
                self._link.sent(entry.request_id)
                self._channel.publish_request(entry.payload)

    def _schedule_tick(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        self._tick_timer = threading.Timer(self.settings.resend_interval, self._queue.put, (_Tick(),))
        self._tick_timer.daemon = True
        self._tick_timer.start()

    # --- the one place state changes ----------------------------------------------------------

    def _dispatch(self, event: Event, answered: str | None = None, official: str | None = None) -> Step[State]:
        """Step the flow; `official` is who signed in for an operator's action (always audited, even if it changed
        nothing)."""
        before = self._state
        result = step(before, event)
        if (result.state is before and not result.effects and result.refusal is None and answered is None
                and official is None):
            return result  # nothing happened (a tick with nothing due): nothing to journal or tell
        at = self._clock()
        detail: dict[str, str | None] = {
            "event": type(event).__name__, "from": type(before).__name__,
            "to": type(result.state).__name__, "refusal": result.refusal,
        }
        if official is not None:
            detail["official"] = official
        with self.journal.atomic():
            if answered is not None:
                self.journal.mark_answered(answered, at)
            self.journal.audit(at, "step", detail)
            actions = [(effect, journal_effect(effect, self.journal, self.settings, at, self.snapshots, self.peers))
                       for effect in result.effects]
        self._faults.reached(f"journaled {type(event).__name__}")
        self._state = result.state
        if result.refusal is not None:
            log.info("refused %s in %s: %s", type(event).__name__, type(before).__name__, result.refusal)
        for effect, action in actions:
            if isinstance(effect, Alarm):
                self._alarms[effect.kind.value] += 1
            if isinstance(action, Publish):
                self._link.sent(action.entry.request_id)
            if action is not None:
                self._shell.perform(action)
                self._faults.reached(f"done {type(effect).__name__}")
        for listener in self._listeners:
            listener(before, event, result)
        return result

    def _record_fault(self, handling: str, place: str) -> None:
        self.faults += 1
        self._alarms["fault"] += 1
        log.error("ALARM: handling %s raised %s", handling, place)
        try:
            with self.journal.atomic():
                self.journal.audit(self._clock(), "fault", {"handling": handling, "fault": place})
        except Exception as journal_exc:  # the journal itself failing: logged, the loop still goes on
            log.critical("ALARM: the journal could not record an alarm: %s", fault_place(journal_exc))
