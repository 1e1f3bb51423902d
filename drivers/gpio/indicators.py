"""Indicators on GPIO lamps and a buzzer; implements `hal.indicators.Indicators`."""

from __future__ import annotations

from drivers.gpio.outputs import GpioOutputs
from hal.indicators import PATTERNS, Lamp, Signal


class GpioIndicators:
    """Indicators on GPIO lamps and a buzzer."""

    def __init__(self, outputs: GpioOutputs) -> None:
        self._outputs = outputs

    def show(self, signal: Signal) -> None:
        pattern = PATTERNS[signal]
        self._outputs.set_lamps({Lamp.READY: pattern.ready, Lamp.BUSY: pattern.busy, Lamp.ERROR: pattern.error})
        self._outputs.beep(pattern.beep)

    def close(self) -> None:
        self._outputs.close()
