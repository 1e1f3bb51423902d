"""The Camera backed by the OpenCV capture thread; implements `hal.camera.Camera`."""

from __future__ import annotations

from typing import assert_never

from drivers.camera.capture import CaptureConfig, CapturedFrame, CaptureState, LatestFrameCapture
from hal.camera import CameraState, CameraStatus, Frame


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
