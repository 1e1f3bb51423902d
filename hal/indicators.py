"""Indicators interface: one pattern at a time on the status lamps and buzzer; the patterns are a table.
The GPIO backend (`drivers.gpio.indicators`) is opened by `hal.backends`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Lamp(enum.StrEnum):
    READY = "ready"
    BUSY = "busy"
    ERROR = "error"


class LampMode(enum.StrEnum):
    OFF = "off"
    ON = "on"
    BLINK = "blink"


@dataclass(frozen=True)
class Beep:
    """`count` tones of `on_s`, each followed by `off_s` of silence."""

    on_s: float
    off_s: float
    count: int

    def __post_init__(self) -> None:
        if self.on_s <= 0 or self.off_s <= 0 or self.count < 1:
            raise ValueError("a beep needs positive times and at least one tone")


class Signal(enum.StrEnum):
    """What the lamps and buzzer tell the room: the flow names a signal, `PATTERNS` says how it looks."""

    READY = "ready"
    BUSY = "busy"
    ELIGIBLE = "eligible"
    REFUSED = "refused"
    FAULT = "fault"


@dataclass(frozen=True)
class LampPattern:
    """What the lamps show (ready, busy, error) and the beep that announces it, if any."""

    ready: LampMode
    busy: LampMode
    error: LampMode
    beep: Beep | None


PATTERNS: dict[Signal, LampPattern] = {
    Signal.READY: LampPattern(LampMode.ON, LampMode.OFF, LampMode.OFF, None),
    Signal.BUSY: LampPattern(LampMode.OFF, LampMode.ON, LampMode.OFF, None),
    Signal.ELIGIBLE: LampPattern(LampMode.ON, LampMode.OFF, LampMode.OFF, Beep(on_s=0.15, off_s=0.05, count=1)),
    Signal.REFUSED: LampPattern(LampMode.OFF, LampMode.OFF, LampMode.ON, Beep(on_s=0.1, off_s=0.1, count=3)),
    Signal.FAULT: LampPattern(LampMode.OFF, LampMode.OFF, LampMode.BLINK, Beep(on_s=0.5, off_s=0.2, count=2)),
}
"""One short beep for a slip, three short for a refusal, two long with a blinking error lamp for a fault."""


class Indicators(Protocol):
    """Status lamps and buzzer. `show` returns at once; a beep plays in the background."""

    def show(self, signal: Signal) -> None: ...

    def close(self) -> None: ...
