"""Opens the device backends from config: the one module of the HAL that imports the drivers.

Everything else of the application sees only the HAL interfaces; drivers implement them and may import HAL
types, never this module."""

from __future__ import annotations

from typing import Any

from drivers.camera.capture import CaptureConfig
from drivers.camera.opencv import OpenCvCamera
from drivers.camera.source import parse_source
from drivers.escpos import PROFILES, SerialPrinter, profile_named
from drivers.gpio.buttons import GpioButtons
from drivers.gpio.indicators import GpioIndicators
from drivers.gpio.inputs import GpioInputs
from drivers.gpio.outputs import GpioOutputs
from drivers.gpio.pins import GpioPins, GpioTiming
from drivers.pcsc.reader import PcscCardReader
from hal.buttons import Buttons
from hal.camera import Camera
from hal.card_reader import CardReader
from hal.indicators import Indicators
from hal.printer import Printer

PRINTER_PROFILES: frozenset[str] = frozenset(PROFILES)
"""The names `[printer] profile` may take."""


def open_card_reader(reader: str | None = None, allow_extended: bool = True) -> CardReader:
    """The PC/SC reader whose name starts with `reader` (any reader if None)."""
    return PcscCardReader(reader, allow_extended)


def open_printer(device: str, profile: str) -> Printer:
    """The ESC/POS printer on a serial device, with the named capability profile."""
    return SerialPrinter(device, profile_named(profile))


def paper_width_dots(profile: str) -> int:
    """Printable dots per line of the named printer profile."""
    return profile_named(profile).dots_per_line


def open_camera(source: str | CaptureConfig) -> Camera:
    """The camera from config text (`device:0`, `video:PATH`, `images:PATTERN`) or a capture config;
    start() begins capturing."""
    config = CaptureConfig(source=parse_source(source)) if isinstance(source, str) else source
    return OpenCvCamera(config)


def open_buttons(pins: GpioPins | None = None, timing: GpioTiming | None = None, pin_factory: Any = None) -> Buttons:
    """The operator's buttons and the tamper switch; `pin_factory` None means GPIOZERO_PIN_FACTORY decides."""
    return GpioButtons(GpioInputs(pins if pins is not None else GpioPins(), timing, pin_factory))


def open_indicators(pins: GpioPins | None = None, pin_factory: Any = None) -> Indicators:
    """The status lamps and buzzer; `pin_factory` None means GPIOZERO_PIN_FACTORY decides."""
    return GpioIndicators(GpioOutputs(pins if pins is not None else GpioPins(), pin_factory))
