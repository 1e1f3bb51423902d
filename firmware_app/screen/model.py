"""The screen's one picture of the terminal: kept by the loop's listener and display, read by the web threads."""

from __future__ import annotations

import asyncio
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firmware_app.flow import texts
from firmware_app.flow.effects import Counter
from firmware_app.flow.events import Event
from firmware_app.flow.notices import Notice
from firmware_app.flow.states import (
    MinutesConflict,
    MinutesSent,
    PollsNotOpen,
    SendingMinutes,
    Starting,
    State,
)
from firmware_app.flow.step import Step
from firmware_app.runtime.health import Health
from firmware_app.screen.actions import head_actions
from firmware_app.screen.minutes_view import instructions_view, minutes_view
from firmware_app.screen.view import Json, jalali, notice_view, state_view
from hal.printer import PrinterStatus
from protocol.minutes import Minutes
from protocol.national_code import to_persian_digits

NOTICES_KEPT = 3
"""The latest notices of the current state the page shows (older ones are in the journal)."""


@dataclass(frozen=True)
class Status:
    """The status bar's values that do not come from a step: the link, the printer, the other devices' health
    (the card reader, the camera), the clock's minute."""

    connected: bool = False
    printer: PrinterStatus | None = None
    minute: str = ""
    devices: tuple[Health, ...] = ()
    at_minute: datetime | None = None
    """The terminal's time to the minute (the countdown to the opening hour is counted from it)."""


@dataclass(frozen=True)
class Identity:
    terminal: str
    branch: str
    training: bool


@dataclass(frozen=True)
class Snapshot:
    """One picture: `event_id` changes with anything shown; `seen` only when the flow's state changes, and an
    action is taken only if the state is still the one of the `seen` the page sent."""

    event_id: str
    seen: int
    state: State
    body: Json = field(repr=False)


class ScreenModel:
    """An `OperatorDisplay` and a runtime listener (both called on the loop's thread), with the status bar's
    values from the status watch; web threads read `current()` and wait for changes with `watch`."""

    def __init__(self, identity: Identity, counts: Callable[[], dict[Counter, int]],
                 minutes: Callable[[], tuple[Minutes, str] | None] = lambda: None) -> None:
        """`counts` and `minutes` (the journal's minutes and their hash) are read on the loop's thread."""
        self._identity = identity
        self._counts = counts
        self._minutes = minutes
        self._recorded: tuple[Minutes, str] | None = None
        self.faults: Callable[[], int] = lambda: 0
        """How many bugs the loop has met (the runtime's count, set once it exists); shown as an alarm."""
        self._lock = threading.Lock()
        self._boot = secrets.token_hex(4)
        self._version = 0
        self._seen = 0
        self._state: State = Starting()
        self._notices: list[Notice] = []
        self._pending: list[Notice] = []
        self._counters: dict[Counter, int] = {}
        self._status = Status()
        self._watchers: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.closed = False
        """Set as the server stops: every stream of changes ends, so the server need not cut them off."""
        self._snapshot = self._build()

    # --- on the loop's thread ---------------------------------------------------------------------

    def show(self, notice: Notice) -> None:
        """The shell shows a notice before the listeners hear of the step that gave it."""
        with self._lock:
            self._pending.append(notice)

    def stepped(self, before: State, event: Event, result: Step[State]) -> None:
        counters = self._counts()
        held = isinstance(result.state, SendingMinutes | MinutesSent | MinutesConflict)
        recorded = (self._recorded or self._minutes()) if held else None
        with self._lock:
            self._recorded = recorded
            if result.state is not self._state:
                self._state = result.state
                self._seen += 1
                self._notices = []
            self._notices = (self._notices + self._pending)[-NOTICES_KEPT:]
            self._pending = []
            self._counters = counters
            self._publish()

    # --- on the status watch's thread -------------------------------------------------------------

    def status_seen(self, status: Status) -> None:
        with self._lock:
            if status != self._status:
                self._status = status
                self._publish()

    # --- for the web threads ----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._wake()

    def current(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    def watch(self, loop: asyncio.AbstractEventLoop, changed: asyncio.Event) -> Callable[[], None]:
        """`changed` is set (on `loop`) after each change; call the returned function to stop watching."""
        entry = (loop, changed)
        with self._lock:
            self._watchers.append(entry)

        def unwatch() -> None:
            with self._lock:
                if entry in self._watchers:
                    self._watchers.remove(entry)

        return unwatch

    def _publish(self) -> None:
        """With the lock held: a new snapshot, and every watcher woken."""
        self._version += 1
        self._snapshot = self._build()
        self._wake()

    def _wake(self) -> None:
        for loop, changed in self._watchers:
            try:
                loop.call_soon_threadsafe(changed.set)
            except RuntimeError:  # that watcher's event loop is closed; it unwatches as its stream ends
                continue

    def _build(self) -> Snapshot:
        status = self._status
        printer: dict[str, Any] | None = None
        if status.printer is not None:
            printer = {"state": status.printer.state.value, "text": texts.printer_status(status.printer)}
        body: Json = {
            "id": f"{self._boot}-{self._version}",
            "seen": self._seen,
            "state": {**state_view(self._state), **_countdown(self._state, status.at_minute)},
            "head_actions": head_actions(self._state),
            "instructions": instructions_view(self._state),
            "minutes": minutes_view(self._state, self._recorded),
            "notices": [notice_view(notice) for notice in self._notices],
            "status": {
                "terminal": self._identity.terminal, "branch": self._identity.branch,
                "training": self._identity.training, "link": {"connected": status.connected},
                "printer": printer, "clock": status.minute,
                "devices": [{"component": health.component.value, "ok": health.ok,
                             "text": f"{texts.COMPONENTS[health.component]}: "
                                     f"{texts.CONDITIONS.get(health.condition, health.condition)}"}
                            for health in status.devices],
                "counters": {counter.value: value for counter, value in self._counters.items()},
                "faults": self.faults(),
            },
        }
        return Snapshot(body["id"], self._seen, self._state, body)


def _countdown(state: State, now: datetime | None) -> Json:
    """Before the opening hour: whole minutes until it, in Persian digits (the page shows the countdown)."""
    if not isinstance(state, PollsNotOpen) or now is None or now >= state.day.opens_at:
        return {}
    minutes = math.ceil((state.day.opens_at - now).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    text = f"{to_persian_digits(str(hours))} ساعت و {to_persian_digits(str(rest))} دقیقه" if hours else \
        f"{to_persian_digits(str(rest))} دقیقه"
    return {"opens_in": {"minutes": minutes, "text": text}}


def minute_of(moment: datetime) -> str:
    """The status bar's clock: Jalali date and time to the minute."""
    return jalali(moment)
