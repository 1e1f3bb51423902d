"""Where frames come from: a camera device index, a video file or a numbered image sequence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

import cv2


@dataclass(frozen=True)
class DeviceSource:
    """A camera the OS lists as /dev/video<index> (V4L2 on the Raspberry Pi)."""

    index: int


@dataclass(frozen=True)
class VideoFileSource:
    """A video file OpenCV can decode; it loops from the start when it ends."""

    path: Path


@dataclass(frozen=True)
class ImageSequenceSource:
    """Numbered image files, e.g. `voter/frame_%03d.jpg` (`cv2.CAP_IMAGES`); loops when it ends."""

    pattern: str


CameraSource = DeviceSource | VideoFileSource | ImageSequenceSource


def is_live(source: CameraSource) -> bool:
    """A device delivers frames at its own pace; files are read as fast as asked and so are paced."""
    match source:
        case DeviceSource():
            return True
        case VideoFileSource() | ImageSequenceSource():
            return False
        case _:
            assert_never(source)


def describe(source: CameraSource) -> str:
    match source:
        case DeviceSource(index=index):
            return f"device {index}"
        case VideoFileSource(path=path):
            return f"video {path.name}"
        case ImageSequenceSource(pattern=pattern):
            return f"images {Path(pattern).name}"
        case _:
            assert_never(source)


def open_capture(source: CameraSource) -> cv2.VideoCapture:
    """Open the source; the caller checks `isOpened()` and releases the capture.

    OpenCV's own warnings (a file sequence ending, a device index missing) are silenced: what matters
    reaches the caller as a failed open or read, and becomes a status value.
    """
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    match source:
        case DeviceSource(index=index):
            return cv2.VideoCapture(index)
        case VideoFileSource(path=path):
            return cv2.VideoCapture(str(path))
        case ImageSequenceSource(pattern=pattern):
            return cv2.VideoCapture(pattern, cv2.CAP_IMAGES)
        case _:
            assert_never(source)


def parse_source(text: str) -> CameraSource:
    """A source from config text: `device:0`, `video:/path/file.avi` or `images:/path/frame_%03d.png`."""
    kind, separator, value = text.partition(":")
    if not separator or not value:
        raise ValueError(f"camera source must look like device:N, video:PATH or images:PATTERN, not {text!r}")
    match kind:
        case "device" if value.isdigit():
            return DeviceSource(int(value))
        case "video":
            return VideoFileSource(Path(value))
        case "images" if "%" in value:
            return ImageSequenceSource(value)
        case _:
            raise ValueError(f"camera source must look like device:N, video:PATH or images:PATTERN, not {text!r}")
