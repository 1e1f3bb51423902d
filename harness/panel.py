"""The operator's buttons, lamps and buzzer of a virtual terminal: the real GPIO drivers on gpiozero's MockFactory."""

from __future__ import annotations

import time

from gpiozero.pins.mock import MockFactory

from drivers.gpio.pins import GpioPins
from hal.backends import open_buttons, open_indicators
from hal.buttons import Buttons
from hal.indicators import Indicators

PRESS_S = 0.05


class PanelPins:
    """The operator's hands on a MockFactory's pins, whoever opened the devices on them: press confirm or reject,
    open or shut the case. The pins keep their own timestamped history."""

    def __init__(self, factory: MockFactory, pins: GpioPins | None = None) -> None:
        self.factory = factory
        self.pins = pins or GpioPins()

    def confirm(self) -> None:
        self._press(self.pins.confirm_button)

    def reject(self) -> None:
        self._press(self.pins.reject_button)

    def open_case(self) -> None:
        self.factory.pin(self.pins.tamper_switch).drive_high()

    def shut_case(self) -> None:
        self.factory.pin(self.pins.tamper_switch).drive_low()

    def _press(self, number: int) -> None:
        pin = self.factory.pin(number)
        pin.drive_low()
        time.sleep(PRESS_S)
        pin.drive_high()


class OperatorPanel(PanelPins):
    """The GPIO buttons and lamps on a MockFactory of their own, the case shut; the test handle presses."""

    def __init__(self, pins: GpioPins | None = None) -> None:
        super().__init__(MockFactory(), pins)
        self.buttons: Buttons = open_buttons(self.pins, pin_factory=self.factory)
        self.indicators: Indicators = open_indicators(self.pins, pin_factory=self.factory)
        self.shut_case()

    def close(self) -> None:
        self.buttons.close()
        self.indicators.close()
