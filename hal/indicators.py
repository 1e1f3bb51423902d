"""Indicators interface: one pattern at a time on the status lamps and buzzer; the patterns are a table."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.gpio.outputs import Beep, GpioOutputs, Lamp, LampMode
from drivers.gpio.pins import GpioPins


class IndicatorPattern(enum.StrEnum):
    READY = "ready"
    BUSY = "busy"
    ELIGIBLE = "eligible"
    REFUSED = "refused"
    FAULT = "fault"


@dataclass(frozen=True)
class Signal:
    """What the lamps show (ready, busy, error) and the beep that announces it, if any."""

    ready: LampMode
    busy: LampMode
    error: LampMode
    beep: Beep | None


SIGNALS: dict[IndicatorPattern, Signal] = {
    IndicatorPattern.READY: Signal(LampMode.ON, LampMode.OFF, LampMode.OFF, None),
    IndicatorPattern.BUSY: Signal(LampMode.OFF, LampMode.ON, LampMode.OFF, None),
    IndicatorPattern.ELIGIBLE: Signal(LampMode.ON, LampMode.OFF, LampMode.OFF, Beep(on_s=0.15, off_s=0.05, count=1)),
    IndicatorPattern.REFUSED: Signal(LampMode.OFF, LampMode.OFF, LampMode.ON, Beep(on_s=0.1, off_s=0.1, count=3)),
    IndicatorPattern.FAULT: Signal(LampMode.OFF, LampMode.OFF, LampMode.BLINK, Beep(on_s=0.5, off_s=0.2, count=2)),
}
"""One short beep for a slip, three short for a refusal, two long with a blinking error lamp for a fault."""


class Indicators(Protocol):
    """Status lamps and buzzer. `show` returns at once; a beep plays in the background."""

    def show(self, pattern: IndicatorPattern) -> None: ...

    def close(self) -> None: ...


class GpioIndicators:
    """Indicators on GPIO lamps and a buzzer."""

    def __init__(self, outputs: GpioOutputs) -> None:
        self._outputs = outputs

    def show(self, pattern: IndicatorPattern) -> None:
        signal = SIGNALS[pattern]
        self._outputs.set_lamps({Lamp.READY: signal.ready, Lamp.BUSY: signal.busy, Lamp.ERROR: signal.error})
        self._outputs.beep(signal.beep)

    def close(self) -> None:
        self._outputs.close()


def open_indicators(pins: GpioPins, pin_factory: Any = None) -> Indicators:
    """The one place the indicator backend is built; `pin_factory` None means GPIOZERO_PIN_FACTORY decides."""
    return GpioIndicators(GpioOutputs(pins, pin_factory))
