"""Which BCM GPIO pin each lamp, the buzzer, each button and the tamper switch is wired to."""

from __future__ import annotations

from dataclasses import astuple, dataclass


@dataclass(frozen=True)
class GpioPins:
    """Pin numbers (BCM). Buttons and the tamper switch close to ground; the internal pull-ups are used."""

    ready_lamp: int = 5
    busy_lamp: int = 6
    error_lamp: int = 13
    buzzer: int = 19
    confirm_button: int = 17
    reject_button: int = 27
    cancel_button: int = 22
    tamper_switch: int = 26

    def __post_init__(self) -> None:
        numbers = astuple(self)
        if len(set(numbers)) != len(numbers):
            raise ValueError("gpio pins must all be different")
        if not all(2 <= number <= 27 for number in numbers):
            raise ValueError("gpio pins must be BCM numbers 2-27")


@dataclass(frozen=True)
class GpioTiming:
    """How long the cancel button is held before it counts, and the buttons' debounce time."""

    cancel_hold_s: float = 2.0
    bounce_s: float | None = 0.03

    def __post_init__(self) -> None:
        if self.cancel_hold_s <= 0 or (self.bounce_s is not None and self.bounce_s <= 0):
            raise ValueError("gpio cancel_hold_s and bounce_s must be positive")
