"""Buttons interface: the operator's confirm, reject and held cancel, and the tamper switch, as events.
The GPIO backend (`drivers.gpio.buttons`) is opened by `hal.backends`."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol


class ButtonEvent(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    CANCEL = "cancel"
    TAMPER = "tamper"


class Buttons(Protocol):
    """Posts a ButtonEvent for each operator action; `notify` runs on a device thread and must only post."""

    def start(self, notify: Callable[[ButtonEvent], None]) -> None: ...

    def tamper_open(self) -> bool: ...

    def close(self) -> None: ...
