"""The operator's buttons, lamps and buzzer of a virtual terminal: the real GPIO drivers on gpiozero's MockFactory."""

from __future__ import annotations

import time

from gpiozero.pins.mock import MockFactory

from drivers.gpio.pins import GpioPins
from hal.backends import open_buttons, open_indicators
from hal.buttons import Buttons
from hal.indicators import Indicators

PRESS_S = 0.05


class OperatorPanel:
    """Test handle: press confirm or reject, open the case; the pins keep their own timestamped history."""

    def __init__(self, pins: GpioPins | None = None) -> None:
        self.pins = pins or GpioPins()
        self.factory = MockFactory()
        self.buttons: Buttons = open_buttons(self.pins, pin_factory=self.factory)
        self.indicators: Indicators = open_indicators(self.pins, pin_factory=self.factory)
        self.factory.pin(self.pins.tamper_switch).drive_low()

    def confirm(self) -> None:
        self._press(self.pins.confirm_button)

    def reject(self) -> None:
        self._press(self.pins.reject_button)

    def open_case(self) -> None:
        self.factory.pin(self.pins.tamper_switch).drive_high()

    def _press(self, number: int) -> None:
        pin = self.factory.pin(number)
        pin.drive_low()
        time.sleep(PRESS_S)
        pin.drive_high()

    def close(self) -> None:
        self.buttons.close()
        self.indicators.close()
