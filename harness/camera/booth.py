"""The spot in front of a terminal's camera: whoever steps in is played to the real OpenCV capture."""

from __future__ import annotations

import threading

from drivers.camera.capture import CaptureConfig
from drivers.camera.source import CameraSource
from hal.backends import open_camera
from hal.camera import Camera, CameraState, CameraStatus, Frame


class CameraBooth:
    """A Camera whose source changes with each voter; between voters it reports no frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._camera: Camera | None = None

    def step_in(self, source: CameraSource) -> None:
        camera = open_camera(CaptureConfig(source=source))
        camera.start()
        with self._lock:
            previous, self._camera = self._camera, camera
        if previous is not None:
            previous.close()

    def start(self) -> None:
        return None

    def status(self) -> CameraStatus:
        with self._lock:
            camera = self._camera
        return camera.status() if camera is not None else CameraStatus(CameraState.STARTING, "nobody in view")

    def latest_frame(self) -> Frame | CameraStatus:
        with self._lock:
            camera = self._camera
        return camera.latest_frame() if camera is not None else self.status()

    def next_frame(self, after: int, timeout_s: float) -> Frame | CameraStatus:
        with self._lock:
            camera = self._camera
        return camera.next_frame(after, timeout_s) if camera is not None else self.status()

    def close(self) -> None:
        with self._lock:
            camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()
