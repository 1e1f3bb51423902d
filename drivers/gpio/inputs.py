"""Operator buttons and the tamper switch through gpiozero; each change is handed to a callback."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import Button

from drivers.gpio.pins import GpioPins, GpioTiming


class Switch(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    CANCEL = "cancel"
    TAMPER = "tamper"


class SwitchAction(enum.StrEnum):
    PRESSED = "pressed"
    HELD = "held"
    RELEASED = "released"


@dataclass(frozen=True)
class SwitchChange:
    """A contact closed (PRESSED), stayed closed for the hold time (HELD) or opened (RELEASED)."""

    switch: Switch
    action: SwitchAction


class GpioInputs:
    """The switches on the configured pins; only cancel reports HELD. Callbacks run on gpiozero's thread."""

    def __init__(self, pins: GpioPins, timing: GpioTiming | None = None, pin_factory: Any = None) -> None:
        timing = timing or GpioTiming()

        def button(pin: int) -> Any:
            return Button(
                pin, pull_up=True, bounce_time=timing.bounce_s, hold_time=timing.cancel_hold_s, pin_factory=pin_factory
            )

        self._switches: dict[Switch, Any] = {
            Switch.CONFIRM: button(pins.confirm_button),
            Switch.REJECT: button(pins.reject_button),
            Switch.CANCEL: button(pins.cancel_button),
            Switch.TAMPER: button(pins.tamper_switch),
        }

    def start(self, notify: Callable[[SwitchChange], None]) -> None:
        for switch, device in self._switches.items():
            device.when_pressed = _reporter(notify, switch, SwitchAction.PRESSED)
            device.when_released = _reporter(notify, switch, SwitchAction.RELEASED)
        self._switches[Switch.CANCEL].when_held = _reporter(notify, Switch.CANCEL, SwitchAction.HELD)

    def is_closed(self, switch: Switch) -> bool:
        return bool(self._switches[switch].is_pressed)

    def close(self) -> None:
        for device in self._switches.values():
            device.close()


def _reporter(notify: Callable[[SwitchChange], None], switch: Switch, action: SwitchAction) -> Callable[[], None]:
    change = SwitchChange(switch, action)

    def report() -> None:
        notify(change)

    return report
