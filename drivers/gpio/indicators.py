"""Indicators on GPIO lamps and a buzzer; implements `hal.indicators.Indicators`."""

from __future__ import annotations

from drivers.gpio.outputs import GpioOutputs
from hal.indicators import SIGNALS, IndicatorPattern, Lamp


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
