"""The intake's saves, gathered on a thread of their own and kept in batches: one transaction for many reports."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence

from center.fleet.store import FleetStoreError, Save

log = logging.getLogger(__name__)
Keeping = Callable[[Sequence[Save]], None]
"""The store's `save`: all of a batch in one transaction, or FleetStoreError."""
Lowering = Callable[[], None]


class IntakeWriter:
    """The listener applies a message to the fleet's view at once and hands its save here (`put` never blocks);
    this thread (lowered by `lower` first) waits `gather_s` after the first save it finds, then keeps up to
    `batch` saves in one call of `keep`, in the order they came. A burst of 500 reports is a handful of transactions, not 500 round trips.

    What the store does not take (it is down, or `queue` saves are already waiting) is counted in `unsaved` and
    dropped: the view still holds it, and the terminal's next report saves its whole record again; only that
    report's place in the history is lost. The thread never stops for a failed save."""

    def __init__(self, keep: Keeping, batch: int, gather_s: float, queue: int,
                 lower: Lowering = lambda: None) -> None:
        self._save = keep
        self._batch = max(1, batch)
        self._gather_s = max(0.0, gather_s)
        self._bound = max(1, queue)
        self._lower = lower
        self._pending: deque[Save] = deque()
        self._changed = threading.Condition()
        self._put = 0
        self._done = 0
        self._unsaved = 0
        self._failed = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="fleet-writer", daemon=True)

    @property
    def unsaved(self) -> int:
        with self._changed:
            return self._unsaved

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def put(self, save: Save) -> bool:
        """Queue `save`; False (counted, dropped) when the queue is full or the writer has stopped."""
        with self._changed:
            if self._stopping or len(self._pending) >= self._bound:
                self._unsaved += 1
                seen = self._unsaved
            else:
                self._pending.append(save)
                self._put += 1
                self._changed.notify_all()
                return True
        if (seen & (seen - 1)) == 0:
            log.warning("a telemetry save was dropped (the writer's queue is full or it has stopped); %d so far",
                        seen)
        return False

    def flush(self, timeout: float) -> bool:
        """Wait until every save queued before this call has been kept or counted unsaved; False on timeout."""
        with self._changed:
            target = self._put
            return self._changed.wait_for(lambda: self._done >= target, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Keep what is queued, then end the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        self._lower()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending) or self._stopping)
                if not self._pending:
                    return
                if not self._stopping and len(self._pending) < self._batch:
                    self._changed.wait_for(lambda: len(self._pending) >= self._batch or self._stopping,
                                           self._gather_s)
                count = min(self._batch, len(self._pending))
                batch = [self._pending.popleft() for _ in range(count)]
            kept = self._keep(batch)
            with self._changed:
                self._done += len(batch)
                if not kept:
                    self._unsaved += len(batch)
                self._changed.notify_all()

    def _keep(self, batch: list[Save]) -> bool:
        """Whether the store took `batch` (all or none: one transaction). Failures are logged at the 1st, 2nd,
        4th, 8th... failed batch, so that a store down for an hour does not fill the log."""
        try:
            self._save(batch)
            return True
        except FleetStoreError as exc:
            self._failed += 1
            if (self._failed & (self._failed - 1)) == 0:
                log.error("the fleet store did not take %d saves: %s; %d batches failed so far", len(batch), exc,
                          self._failed)
        except Exception:  # a bug in the store: alarm, count, and go on with the next batch
            self._failed += 1
            log.exception("ALARM: the fleet store raised on a batch of %d saves", len(batch))
        return False
