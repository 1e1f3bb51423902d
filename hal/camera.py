"""Camera interface: the newest live frame, or a status saying why there is none (the flow goes on without).
The OpenCV backend (`drivers.camera.opencv`) is opened by `hal.backends`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt


class CameraState(enum.StrEnum):
    STARTING = "starting"
    READY = "ready"
    NOT_FOUND = "not_found"
    DISCONNECTED = "disconnected"
    EMPTY_FRAMES = "empty_frames"
    CLOSED = "closed"


@dataclass(frozen=True)
class CameraStatus:
    state: CameraState
    detail: str = ""

    @property
    def has_frames(self) -> bool:
        return self.state is CameraState.READY


@dataclass(frozen=True)
class Frame:
    """A BGR image (rows x columns x 3, uint8), numbered in capture order. Lives in memory only."""

    pixels: npt.NDArray[np.uint8] = field(repr=False)
    number: int


class Camera(Protocol):
    """The terminal's camera. Calls never block for long and never raise for a device problem."""

    def start(self) -> None: ...

    def status(self) -> CameraStatus: ...

    def latest_frame(self) -> Frame | CameraStatus: ...

    def next_frame(self, after: int, timeout_s: float) -> Frame | CameraStatus: ...

    def close(self) -> None: ...
