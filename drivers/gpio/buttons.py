"""Buttons on GPIO: switch changes become operator events; implements `hal.buttons.Buttons`."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from drivers.gpio.inputs import GpioInputs, Switch, SwitchAction, SwitchChange
from hal.buttons import ButtonEvent


def button_event(change: SwitchChange) -> ButtonEvent | None:
    """Confirm and reject count when pressed, cancel only when held, tamper when the case opens."""
    match change.switch:
        case Switch.CONFIRM:
            return ButtonEvent.CONFIRM if change.action is SwitchAction.PRESSED else None
        case Switch.REJECT:
            return ButtonEvent.REJECT if change.action is SwitchAction.PRESSED else None
        case Switch.CANCEL:
            return ButtonEvent.CANCEL if change.action is SwitchAction.HELD else None
        case Switch.TAMPER:
            return ButtonEvent.TAMPER if change.action is SwitchAction.RELEASED else None
        case _:
            assert_never(change.switch)


class GpioButtons:
    """Buttons on GPIO. The tamper switch is closed while the case is shut; open at start counts as tamper."""

    def __init__(self, inputs: GpioInputs) -> None:
        self._inputs = inputs

    def start(self, notify: Callable[[ButtonEvent], None]) -> None:
        def forward(change: SwitchChange) -> None:
            event = button_event(change)
            if event is not None:
                notify(event)

        self._inputs.start(forward)
        if self.tamper_open():
            notify(ButtonEvent.TAMPER)

    def tamper_open(self) -> bool:
        return not self._inputs.is_closed(Switch.TAMPER)

    def close(self) -> None:
        self._inputs.close()
