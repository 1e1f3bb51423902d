"""A reader monitor thread that survives pcscd stopping and resumes when it returns."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from drivers.pcsc import scard
from hal.card_reader import ReaderEvent
from hal.link_errors import LinkError, LinkProblem


@dataclass(frozen=True)
class ReaderSnapshot:
    """What the monitor last saw; None before the first observation."""

    service_up: bool | None = None
    reader: str | None = None
    card_present: bool = False


def choose_reader(readers: tuple[str, ...], wanted: str | None) -> str | None:
    """The first reader whose name starts with `wanted` (any reader when `wanted` is None)."""
    for name in readers:
        if wanted is None or name.startswith(wanted):
            return name
    return None


class ReaderMonitor:
    """Polls PC/SC for one reader and posts changes to `notify` from its own thread."""

    def __init__(
        self, notify: Callable[[ReaderEvent], None], wanted: str | None = None, poll_ms: int = 250
    ) -> None:
        self._notify = notify
        self._wanted = wanted
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._snapshot = ReaderSnapshot()
        self._thread = threading.Thread(target=self._run, name="pcsc-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def snapshot(self) -> ReaderSnapshot:
        with self._lock:
            return self._snapshot

    def _run(self) -> None:
        while not self._stop.is_set():
            context = scard.establish()
            if isinstance(context, LinkError):
                self._observe(service_up=False, reader=None, card_present=False)
                self._stop.wait(self._poll_ms / 1000)
                continue
            try:
                self._watch(context)
            finally:
                scard.release(context)

    def _watch(self, context: int) -> None:
        """Follow the reader until pcscd goes away or the monitor stops."""
        current: tuple[str, int] | None = None
        while not self._stop.is_set():
            readers = scard.list_readers(context)
            if isinstance(readers, LinkError):
                if readers.problem is LinkProblem.NO_SERVICE:
                    self._observe(service_up=False, reader=None, card_present=False)
                    return
                self._stop.wait(self._poll_ms / 1000)
                continue
            reader = choose_reader(readers, self._wanted)
            if reader is None:
                self._observe(service_up=True, reader=None, card_present=False)
                current = None
                self._stop.wait(self._poll_ms / 1000)
                continue
            if current is None or current[0] != reader:
                current = (reader, 0)
            changed = scard.get_status_change(context, self._poll_ms, [current])
            if changed is None:
                continue
            if isinstance(changed, LinkError):
                if changed.problem is LinkProblem.NO_SERVICE:
                    self._observe(service_up=False, reader=None, card_present=False)
                    return
                current = None
                continue
            _name, event_state, _atr = changed[0]
            if event_state & scard.STATE_UNAVAILABLE:
                self._observe(service_up=True, reader=None, card_present=False)
                current = None
                self._stop.wait(self._poll_ms / 1000)
                continue
            current = (reader, event_state & ~scard.STATE_CHANGED)
            present = bool(event_state & scard.STATE_PRESENT) and not event_state & scard.STATE_MUTE
            self._observe(service_up=True, reader=reader, card_present=present)

    def _observe(self, service_up: bool, reader: str | None, card_present: bool) -> None:
        """Record what was seen and post only the changes, in a fixed order."""
        with self._lock:
            before = self._snapshot
            self._snapshot = ReaderSnapshot(service_up, reader, card_present)
        events: list[ReaderEvent] = []
        if before.card_present and not card_present:
            events.append(ReaderEvent.CARD_REMOVED)
        if reader is None and (before.reader is not None or before.service_up is None):
            events.append(ReaderEvent.READER_GONE)
        if not service_up and before.service_up is not False:
            events.append(ReaderEvent.SERVICE_GONE)
        if service_up and before.service_up is False:
            events.append(ReaderEvent.SERVICE_BACK)
        if reader is not None and before.reader is None and before.service_up is not None:
            events.append(ReaderEvent.READER_BACK)
        if card_present and not before.card_present:
            events.append(ReaderEvent.CARD_INSERTED)
        for event in events:
            self._notify(event)
