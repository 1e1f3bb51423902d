"""A reader's blocking card calls run on one thread of its own, so that a caller can give up at its deadline.

Nothing in PC/SC frees an SCardTransmit that a card never answers (pcsc-lite 1.9.9 with vpcd, see
docs/card-profile.md): SCardCancel only cancels SCardGetStatusChange; SCardDisconnect and SCardReleaseContext
wait for the same context's lock; a second context's connect or reset waits behind pcscd's reader lock; killing
the client leaves pcscd's reader held. The call returns only when the card answers or is pulled. So the caller
stops waiting at its deadline and the reader stays busy, refusing new calls, until the abandoned call returns;
then what it produced is handed to its `discard` (which releases the connection).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")
_IDLE_EXIT_S = 10.0


@dataclass(frozen=True)
class Abandoned:
    """The caller stopped waiting. `started` is False when an earlier abandoned call still held the thread."""

    started: bool


class _Call(Generic[T]):
    def __init__(self, run: Callable[[], T], discard: Callable[[T], None] | None) -> None:
        self.run = run
        self.discard = discard
        self.done = False
        self.abandoned = False
        self.result: T | None = None
        self.error: BaseException | None = None


class CardIo:
    """Runs one blocking call at a time on a daemon thread; `call` waits at most `timeout` seconds for it."""

    def __init__(self, name: str = "card-io") -> None:
        self._name = name
        self._condition = threading.Condition()
        self._pending: _Call[Any] | None = None
        self._current: _Call[Any] | None = None
        self._thread: threading.Thread | None = None
        self.abandoned_calls = 0

    @property
    def busy(self) -> bool:
        """Whether a call (an abandoned one, between reads) still holds the thread."""
        with self._condition:
            return self._current is not None or self._pending is not None

    @property
    def held_by_abandoned(self) -> bool:
        """Whether the thread is still inside a call its caller gave up on (a card that stopped answering)."""
        with self._condition:
            return self._current is not None and self._current.abandoned

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to be free; whether it is."""
        with self._condition:
            return self._condition.wait_for(lambda: self._current is None and self._pending is None, timeout)

    def call(
        self, run: Callable[[], T], timeout: float, discard: Callable[[T], None] | None = None
    ) -> T | Abandoned:
        """`run()` on the card thread; Abandoned if it has not returned within `timeout` seconds, in which
        case its result, when it comes, goes to `discard`. An exception from `run` is re-raised here."""
        job: _Call[T] = _Call(run, discard)
        ends = time.monotonic() + timeout
        with self._condition:
            if not self._condition.wait_for(lambda: self._current is None and self._pending is None, timeout):
                return Abandoned(started=False)
            self._pending = job
            self._start_thread()
            self._condition.notify_all()
            if not self._condition.wait_for(lambda: job.done, max(0.0, ends - time.monotonic())):
                job.abandoned = True
                self.abandoned_calls += 1
                return Abandoned(started=True)
        if job.error is not None:
            raise job.error
        return cast(T, job.result)

    def _start_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        while True:
            with self._condition:
                if not self._condition.wait_for(lambda: self._pending is not None, timeout=_IDLE_EXIT_S):
                    self._thread = None
                    return
                job, self._pending = self._pending, None
                self._current = job
            assert job is not None
            result: object = None
            error: BaseException | None = None
            try:
                result = job.run()
            except BaseException as exc:  # handed to the caller, or logged if the caller has left
                error = exc
            with self._condition:
                job.result, job.error, job.done = result, error, True
                abandoned = job.abandoned
                self._condition.notify_all()
            if abandoned:
                self._dispose(job, result, error)
            with self._condition:
                self._current = None
                self._condition.notify_all()

    @staticmethod
    def _dispose(job: _Call[Any], result: object, error: BaseException | None) -> None:
        if error is not None:
            log.error("an abandoned card call failed", exc_info=error)
            return
        if job.discard is not None:
            try:
                job.discard(result)
            except Exception:
                log.exception("releasing an abandoned card call failed")
