"""The status lamps and the buzzer, driven through gpiozero; beeps run in gpiozero's background thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from gpiozero import LED, Buzzer

from drivers.gpio.pins import GpioPins
from hal.indicators import Beep, Lamp, LampMode

BLINK_S = 0.5


class GpioOutputs:
    """Lamps and buzzer on the configured pins. `pin_factory` None means gpiozero's configured factory."""

    def __init__(self, pins: GpioPins, pin_factory: Any = None) -> None:
        self._lamps: dict[Lamp, Any] = {
            Lamp.READY: LED(pins.ready_lamp, pin_factory=pin_factory),
            Lamp.BUSY: LED(pins.busy_lamp, pin_factory=pin_factory),
            Lamp.ERROR: LED(pins.error_lamp, pin_factory=pin_factory),
        }
        self._buzzer: Any = Buzzer(pins.buzzer, pin_factory=pin_factory)

    def set_lamps(self, modes: Mapping[Lamp, LampMode]) -> None:
        """Set every lamp named; lamps not named keep what they show."""
        for lamp, mode in modes.items():
            device = self._lamps[lamp]
            match mode:
                case LampMode.OFF:
                    device.off()
                case LampMode.ON:
                    device.on()
                case LampMode.BLINK:
                    device.blink(on_time=BLINK_S, off_time=BLINK_S, background=True)
                case _:
                    assert_never(mode)

    def beep(self, beep: Beep | None) -> None:
        """Start a beep pattern (cutting short any still sounding), or silence the buzzer with None."""
        if beep is None:
            self._buzzer.off()
            return
        self._buzzer.beep(on_time=beep.on_s, off_time=beep.off_s, n=beep.count, background=True)

    def close(self) -> None:
        for device in (*self._lamps.values(), self._buzzer):
            device.close()
