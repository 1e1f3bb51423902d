"""Camera interface: the newest live frame, or a status saying why there is none (the flow goes on without)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol, assert_never

import numpy as np
import numpy.typing as npt

from drivers.camera.capture import CaptureConfig, CapturedFrame, CaptureState, LatestFrameCapture


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


def camera_state(state: CaptureState) -> CameraState:
    match state:
        case CaptureState.STARTING:
            return CameraState.STARTING
        case CaptureState.STREAMING:
            return CameraState.READY
        case CaptureState.NOT_FOUND:
            return CameraState.NOT_FOUND
        case CaptureState.DISCONNECTED:
            return CameraState.DISCONNECTED
        case CaptureState.EMPTY_FRAMES:
            return CameraState.EMPTY_FRAMES
        case CaptureState.CLOSED:
            return CameraState.CLOSED
        case _:
            assert_never(state)


class OpenCvCamera:
    """The Camera backed by the OpenCV capture thread; the source (device, file, images) is config."""

    def __init__(self, config: CaptureConfig) -> None:
        self._capture = LatestFrameCapture(config)

    def start(self) -> None:
        self._capture.start()

    def status(self) -> CameraStatus:
        state, detail = self._capture.state()
        return CameraStatus(camera_state(state), detail)

    def latest_frame(self) -> Frame | CameraStatus:
        return self._frame_or_status(self._capture.latest())

    def next_frame(self, after: int, timeout_s: float) -> Frame | CameraStatus:
        """A frame numbered above `after`, waiting up to `timeout_s`; the status if none came in time."""
        return self._frame_or_status(self._capture.wait_for_frame_after(after, timeout_s))

    def close(self) -> None:
        self._capture.close()

    def _frame_or_status(self, captured: CapturedFrame | None) -> Frame | CameraStatus:
        if captured is None:
            return self.status()
        return Frame(pixels=captured.pixels, number=captured.number)


def open_camera(config: CaptureConfig) -> Camera:
    """The one place a camera backend is built from config; start() begins capturing."""
    return OpenCvCamera(config)
