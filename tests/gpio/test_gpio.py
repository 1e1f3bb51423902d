"""Lamps, buzzer, buttons and tamper switch through gpiozero's own MockFactory: pin histories and events."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from drivers.gpio.outputs import BLINK_S
from drivers.gpio.pins import GpioPins, GpioTiming
from hal.backends import open_buttons, open_indicators
from hal.buttons import ButtonEvent, Buttons
from hal.indicators import PATTERNS, Beep, Indicators, Signal

PINS = GpioPins()
TIMING = GpioTiming(cancel_hold_s=0.2, bounce_s=None)
WAIT_S = 5.0


def _wait_until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _history(pin: MockPin) -> list[bool]:
    return [bool(change.state) for change in pin.states]


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


@pytest.fixture
def buttons(factory: MockFactory) -> Iterator[tuple[Buttons, queue.Queue[ButtonEvent]]]:
    device = open_buttons(PINS, TIMING, pin_factory=factory)
    factory.pin(PINS.tamper_switch).drive_low()
    events: queue.Queue[ButtonEvent] = queue.Queue()
    device.start(events.put)
    yield device, events
    device.close()


@pytest.fixture
def indicators(factory: MockFactory) -> Iterator[Indicators]:
    device = open_indicators(PINS, pin_factory=factory)
    yield device
    device.close()


def _press(factory: MockFactory, pin: int) -> None:
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def test_confirm_and_reject_presses_become_events(factory: MockFactory, buttons: tuple[Buttons, queue.Queue[ButtonEvent]]) -> None:
    _, events = buttons
    _press(factory, PINS.confirm_button)
    _press(factory, PINS.reject_button)
    assert events.get(timeout=WAIT_S) is ButtonEvent.CONFIRM
    assert events.get(timeout=WAIT_S) is ButtonEvent.REJECT
    assert events.empty()


def test_cancel_counts_only_when_held(factory: MockFactory, buttons: tuple[Buttons, queue.Queue[ButtonEvent]]) -> None:
    _, events = buttons
    cancel = factory.pin(PINS.cancel_button)
    _press(factory, PINS.cancel_button)
    _press(factory, PINS.confirm_button)
    assert events.get(timeout=WAIT_S) is ButtonEvent.CONFIRM, "a short press of cancel posted something"
    cancel.drive_low()
    assert events.get(timeout=WAIT_S) is ButtonEvent.CANCEL
    cancel.drive_high()
    _press(factory, PINS.reject_button)
    assert events.get(timeout=WAIT_S) is ButtonEvent.REJECT, "holding cancel posted more than one event"


def test_opening_the_case_posts_tamper_and_closing_it_does_not(
    factory: MockFactory, buttons: tuple[Buttons, queue.Queue[ButtonEvent]]
) -> None:
    device, events = buttons
    tamper = factory.pin(PINS.tamper_switch)
    assert not device.tamper_open()
    tamper.drive_high()
    assert events.get(timeout=WAIT_S) is ButtonEvent.TAMPER
    assert device.tamper_open()
    tamper.drive_low()
    _press(factory, PINS.confirm_button)
    assert events.get(timeout=WAIT_S) is ButtonEvent.CONFIRM
    assert not device.tamper_open()


def test_a_case_already_open_at_start_posts_tamper(factory: MockFactory) -> None:
    device = open_buttons(PINS, TIMING, pin_factory=factory)
    events: queue.Queue[ButtonEvent] = queue.Queue()
    try:
        device.start(events.put)
        assert events.get(timeout=WAIT_S) is ButtonEvent.TAMPER
    finally:
        device.close()


@pytest.mark.parametrize("pattern", [Signal.READY, Signal.BUSY])
def test_quiet_patterns_light_one_lamp_and_never_beep(pattern: Signal, factory: MockFactory, indicators: Indicators) -> None:
    indicators.show(pattern)
    lit = {pin: factory.pin(pin).state for pin in (PINS.ready_lamp, PINS.busy_lamp, PINS.error_lamp)}
    expected_pin = PINS.ready_lamp if pattern is Signal.READY else PINS.busy_lamp
    assert lit == {pin: pin == expected_pin for pin in lit}
    assert _history(factory.pin(PINS.buzzer)) == [False]


@pytest.mark.parametrize(
    ("pattern", "lamp", "tones"),
    [
        (Signal.ELIGIBLE, PINS.ready_lamp, 1),
        (Signal.REFUSED, PINS.error_lamp, 3),
        (Signal.FAULT, PINS.error_lamp, 2),
    ],
)
def test_outcome_patterns_sound_their_own_beeps(
    pattern: Signal, lamp: int, tones: int, factory: MockFactory, indicators: Indicators
) -> None:
    indicators.show(pattern)
    buzzer = factory.pin(PINS.buzzer)
    expected = [False] + [True, False] * tones
    assert _wait_until(lambda: len(buzzer.states) >= len(expected))
    assert _wait_until(lambda: factory.pin(lamp).state or len(factory.pin(lamp).states) > 1)
    assert _history(buzzer)[: len(expected)] == expected
    assert factory.pin(lamp).states[1].state is True
    others = {PINS.ready_lamp, PINS.busy_lamp, PINS.error_lamp} - {lamp}
    assert all(not factory.pin(pin).state for pin in others)


def test_the_three_outcome_beeps_are_distinct() -> None:
    beeps: list[Beep | None] = [PATTERNS[p].beep for p in (Signal.ELIGIBLE, Signal.REFUSED, Signal.FAULT)]
    assert None not in beeps and len(set(beeps)) == 3


def test_fault_blinks_the_error_lamp_until_the_next_pattern(factory: MockFactory, indicators: Indicators) -> None:
    error = factory.pin(PINS.error_lamp)
    indicators.show(Signal.FAULT)
    assert _wait_until(lambda: len(error.states) >= 4), f"error lamp did not blink within {WAIT_S}s ({BLINK_S}s period)"
    assert _history(error)[:4] == [False, True, False, True]
    indicators.show(Signal.READY)
    assert not error.state
    assert factory.pin(PINS.ready_lamp).state
    settled = len(error.states)
    time.sleep(2 * BLINK_S)
    assert len(error.states) == settled, "the error lamp kept blinking after the fault was cleared"


def test_pins_must_be_distinct_gpio_numbers() -> None:
    with pytest.raises(ValueError, match="different"):
        GpioPins(ready_lamp=5, busy_lamp=5)
    with pytest.raises(ValueError, match="BCM"):
        GpioPins(buzzer=40)
