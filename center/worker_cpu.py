"""A worker's CPU time per request, by stage (verify, unseal, registry, sign) and request kind, for the benches."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocol.messages import RequestKind


class Stage(enum.IntEnum):
    """Where a request's CPU time goes. REGISTRY is the registry's transaction (for a reserve: the idempotency
    lookup, the quota, the reserve, keeping the answer, the commit), without the unsealing and signing done inside
    it; TOTAL is the whole `Responder.handle`, so TOTAL minus the rest is the topic, rate limit and enrolment
    lookup and the request's digest."""

    VERIFY = 0
    UNSEAL = 1
    REGISTRY = 2
    SIGN = 3
    TOTAL = 4


class Handled(enum.IntEnum):
    """The row a request is counted in: the kind it turned out to be, or DROPPED before its kind was known."""

    RESERVE = 0
    COMMIT = 1
    VOID = 2
    OPEN = 3
    CLOSE = 4
    MINUTES = 5
    OFFLINE_ISSUE = 6
    DROPPED = 7

    @classmethod
    def of(cls, kind: RequestKind | None) -> Handled:
        return cls.DROPPED if kind is None else cls[kind.name]


_COLUMNS = 1 + len(Stage)
"""Per row: the count, then nanoseconds of each stage."""
WIDTH = len(Handled) * _COLUMNS
"""How many integers a snapshot has (`StageTotals.values`), e.g. for a shared-memory slot."""


@dataclass(frozen=True)
class StageTotals:
    """Counts and CPU nanoseconds of the requests handled, by row (Handled) and stage; summable across workers."""

    values: tuple[int, ...]

    @classmethod
    def empty(cls) -> StageTotals:
        return cls((0,) * WIDTH)

    @classmethod
    def from_values(cls, values: Sequence[int]) -> StageTotals:
        if len(values) != WIDTH:
            raise ValueError(f"a snapshot has {WIDTH} values, not {len(values)}")
        return cls(tuple(int(value) for value in values))

    def count(self, row: Handled) -> int:
        return self.values[row * _COLUMNS]

    def nanoseconds(self, row: Handled, stage: Stage) -> int:
        return self.values[row * _COLUMNS + 1 + stage]

    def microseconds_each(self, row: Handled, stage: Stage) -> float:
        """Mean CPU µs of `stage` per request of `row` (0 when none was handled)."""
        count = self.count(row)
        return self.nanoseconds(row, stage) / count / 1000 if count else 0.0

    def __add__(self, other: StageTotals) -> StageTotals:
        return StageTotals(tuple(a + b for a, b in zip(self.values, other.values, strict=True)))

    def __sub__(self, other: StageTotals) -> StageTotals:
        return StageTotals(tuple(a - b for a, b in zip(self.values, other.values, strict=True)))


def total(snapshots: Iterable[StageTotals]) -> StageTotals:
    summed = StageTotals.empty()
    for snapshot in snapshots:
        summed = summed + snapshot
    return summed


class StageClock:
    """Times one thread's requests with its own CPU clock (time.thread_time_ns: a handful of calls, about a
    microsecond, per request). Used by one thread only; `snapshot` may be read from another."""

    def __init__(self) -> None:
        self._values = [0] * WIDTH
        self._started = 0
        self._current = [0] * len(Stage)

    @staticmethod
    def now() -> int:
        return time.thread_time_ns()

    def begin(self) -> None:
        self._started = time.thread_time_ns()
        self._current = [0] * len(Stage)

    def add(self, stage: Stage, started: int) -> int:
        """Count the CPU time since `started` to `stage`; returns that time (ns)."""
        spent = time.thread_time_ns() - started
        self._current[stage] += spent
        return spent

    def end(self, kind: RequestKind | None) -> None:
        """The request is done: count it, and its stages, in the row of its kind."""
        self._current[Stage.TOTAL] = time.thread_time_ns() - self._started
        # The registry's transaction is timed whole, and the unsealing and signing happen inside it.
        self._current[Stage.REGISTRY] = max(0, self._current[Stage.REGISTRY] - self._current[Stage.UNSEAL]
                                            - self._current[Stage.SIGN])
        base = Handled.of(kind) * _COLUMNS
        self._values[base] += 1
        for stage, spent in enumerate(self._current):
            self._values[base + 1 + stage] += spent

    def snapshot(self) -> StageTotals:
        return StageTotals(tuple(self._values))
