"""One card read's allowance: a deadline on the whole read and a cap on the APDUs it may exchange."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hal.link_errors import LinkError, LinkProblem

DEFAULT_DEADLINE_S = 5.0
DEFAULT_MAX_APDUS = 1000
"""A conforming NID-IR v1 card needs about 210 APDUs in the worst legitimate case (short reads, every answer
through GET RESPONSE, a 25 KB face); see docs/card-profile.md."""


@dataclass(frozen=True)
class ReadLimits:
    """How long one read may take in all (connect to the last answer) and how many APDUs it may send."""

    deadline_s: float = DEFAULT_DEADLINE_S
    max_apdus: int = DEFAULT_MAX_APDUS

    def __post_init__(self) -> None:
        if not self.deadline_s > 0:
            raise ValueError("the read deadline must be positive")
        if self.max_apdus < 1:
            raise ValueError("a read must be allowed at least one APDU")


class ReadBudget:
    """What is left of one read's limits; starts when made. Shared by the reader's connect and the session."""

    def __init__(self, limits: ReadLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits if limits is not None else ReadLimits()
        self._clock = clock
        self._ends = clock() + self.limits.deadline_s
        self.apdus = 0

    def remaining(self) -> float:
        """Seconds left before the deadline, never negative."""
        return max(0.0, self._ends - self._clock())

    def spend_apdu(self) -> LinkError | None:
        """Account for one more APDU; the typed error when the deadline has passed or the cap is reached."""
        if self.remaining() <= 0:
            return self.timed_out("no time left for the next APDU")
        if self.apdus >= self.limits.max_apdus:
            return LinkError(
                LinkProblem.TOO_MANY_APDUS, f"the card needed more than {self.limits.max_apdus} APDUs for one read"
            )
        self.apdus += 1
        return None

    def timed_out(self, what: str) -> LinkError:
        """The TIMED_OUT error for `what`, with how far the read got."""
        return LinkError(
            LinkProblem.TIMED_OUT,
            f"{what}: read deadline of {self.limits.deadline_s:g} s passed after {self.apdus} APDUs",
        )
