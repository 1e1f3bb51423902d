"""A capture thread that keeps only the newest frame and reports what the source is doing as a state."""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from drivers.camera.source import CameraSource, describe, is_live, open_capture

Pixels = npt.NDArray[np.uint8]


class CaptureState(enum.StrEnum):
    STARTING = "starting"
    STREAMING = "streaming"
    NOT_FOUND = "not_found"
    DISCONNECTED = "disconnected"
    EMPTY_FRAMES = "empty_frames"
    CLOSED = "closed"


@dataclass(frozen=True)
class CaptureConfig:
    """How a source is read. `max_fps` paces files; a device delivers at its own rate."""

    source: CameraSource
    max_fps: float = 15.0
    failed_read_limit: int = 3
    empty_frame_limit: int = 5
    reopen_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_fps <= 0:
            raise ValueError("camera max_fps must be positive")
        if self.failed_read_limit < 1 or self.empty_frame_limit < 1:
            raise ValueError("camera read limits must be at least 1")
        if self.reopen_interval_s <= 0:
            raise ValueError("camera reopen_interval_s must be positive")


@dataclass(frozen=True)
class CapturedFrame:
    """One BGR frame and its number since the capture started (1 is the first)."""

    pixels: Pixels = field(repr=False)
    number: int


def is_empty(pixels: Pixels | None) -> bool:
    """No data, or every pixel the same: a real sensor always shows some noise."""
    if pixels is None or pixels.size == 0:
        return True
    sample = pixels[::7, ::7]
    return bool(sample.min() == sample.max())


class LatestFrameCapture:
    """Reads a source on its own thread; `latest()` returns the newest frame, older ones are dropped."""

    def __init__(self, config: CaptureConfig) -> None:
        self._config = config
        self._lock = threading.Condition()
        self._state = CaptureState.STARTING
        self._detail = describe(config.source)
        self._latest: CapturedFrame | None = None
        self._count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-capture", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._set(CaptureState.CLOSED, describe(self._config.source), clear=True)

    def state(self) -> tuple[CaptureState, str]:
        with self._lock:
            return self._state, self._detail

    def latest(self) -> CapturedFrame | None:
        """The newest frame while the source is streaming; None in every other state."""
        with self._lock:
            return self._latest if self._state is CaptureState.STREAMING else None

    def wait_for_frame_after(self, number: int, timeout_s: float) -> CapturedFrame | None:
        """Block until a frame newer than `number` arrives, the capture closes or the timeout passes."""
        with self._lock:
            self._lock.wait_for(lambda: self._newer(number) or self._state is CaptureState.CLOSED, timeout_s)
            return self._latest if self._newer(number) else None

    def _newer(self, number: int) -> bool:
        latest = self._latest
        return self._state is CaptureState.STREAMING and latest is not None and latest.number > number

    def _set(self, state: CaptureState, detail: str, *, clear: bool = False) -> None:
        with self._lock:
            self._state, self._detail = state, detail
            if clear:
                self._latest = None
            self._lock.notify_all()

    def _publish(self, pixels: Pixels) -> None:
        with self._lock:
            self._count += 1
            self._latest = CapturedFrame(pixels=pixels, number=self._count)
            self._state, self._detail = CaptureState.STREAMING, describe(self._config.source)
            self._lock.notify_all()

    def _run(self) -> None:
        config = self._config
        period = 0.0 if is_live(config.source) else 1.0 / config.max_fps
        ever_streamed = False
        while not self._stop.is_set():
            capture = open_capture(config.source)
            if not capture.isOpened():
                capture.release()
                lost = CaptureState.DISCONNECTED if ever_streamed else CaptureState.NOT_FOUND
                self._set(lost, f"{describe(config.source)}: cannot open", clear=True)
                self._stop.wait(config.reopen_interval_s)
                continue
            delivered = self._read_until_failure(capture, period)
            capture.release()
            ever_streamed = ever_streamed or delivered > 0
            if delivered == 0 and not self._stop.is_set():
                lost = CaptureState.DISCONNECTED if ever_streamed else CaptureState.NOT_FOUND
                if self.state()[0] is not CaptureState.EMPTY_FRAMES:
                    self._set(lost, f"{describe(config.source)}: opens but gives no frames", clear=True)
                self._stop.wait(config.reopen_interval_s)

    def _read_until_failure(self, capture: cv2.VideoCapture, period: float) -> int:
        """Read until the source fails (unplugged, file ended) or stops; returns frames delivered."""
        config = self._config
        delivered = failed = empty = 0
        while not self._stop.is_set():
            started = time.monotonic()
            ok, pixels = capture.read()
            if not ok:
                failed += 1
                if failed >= config.failed_read_limit or (delivered and not is_live(config.source)):
                    return delivered
                continue
            failed = 0
            frame = np.asarray(pixels, dtype=np.uint8) if pixels is not None else None
            if frame is None or is_empty(frame):
                empty += 1
                if empty >= config.empty_frame_limit:
                    self._set(CaptureState.EMPTY_FRAMES, f"{describe(config.source)}: blank frames", clear=True)
            else:
                empty = 0
                delivered += 1
                self._publish(frame)
            if period:
                self._stop.wait(max(0.0, period - (time.monotonic() - started)))
        return delivered
