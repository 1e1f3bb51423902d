"""The OpenCV camera on real files: frames in capture order, and every status the flow must handle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera.capture import CaptureConfig
from drivers.camera.source import (
    CameraSource,
    DeviceSource,
    ImageSequenceSource,
    VideoFileSource,
    parse_source,
)
from hal.backends import open_camera
from hal.camera import Camera, CameraState, CameraStatus, Frame
from harness.camera.frames import BgrImage, load, write_sequence, write_video

SETTLE_S = 10.0


def _images() -> list[BgrImage]:
    names = ("obama.jpg", "biden.jpg", "astronaut.jpg")
    return [np.asarray(cv2.resize(load(name), (160, 120)), dtype=np.uint8) for name in names]


def _config(source: CameraSource) -> CaptureConfig:
    return CaptureConfig(source=source, max_fps=60.0, reopen_interval_s=0.05)


@pytest.fixture
def started() -> Iterator[list[Camera]]:
    cameras: list[Camera] = []
    yield cameras
    for camera in cameras:
        camera.close()


def _start(cameras: list[Camera], source: CameraSource) -> Camera:
    camera = open_camera(_config(source))
    cameras.append(camera)
    camera.start()
    return camera


def _wait_state(camera: Camera, wanted: CameraState) -> CameraStatus:
    for _ in range(int(SETTLE_S / 0.05)):
        if camera.status().state is wanted:
            break
        camera.next_frame(after=10**9, timeout_s=0.05)
    return camera.status()


def test_image_sequence_frames_arrive_in_capture_order_and_loop(tmp_path: Path, started: list[Camera]) -> None:
    images = _images()
    camera = _start(started, ImageSequenceSource(write_sequence(tmp_path / "seq", images)))
    seen: list[Frame] = []
    after = 0
    while len(seen) < 5:
        frame = camera.next_frame(after=after, timeout_s=SETTLE_S)
        assert isinstance(frame, Frame), f"expected a frame, got {frame}"
        seen.append(frame)
        after = frame.number
    assert camera.status() == CameraStatus(CameraState.READY, "images frame_%03d.png")
    for frame in seen:
        expected = images[(frame.number - 1) % len(images)]
        assert np.array_equal(frame.pixels, expected), f"frame {frame.number} is not image {(frame.number - 1) % 3}"


def test_latest_frame_is_the_newest_one_captured(tmp_path: Path, started: list[Camera]) -> None:
    camera = _start(started, ImageSequenceSource(write_sequence(tmp_path / "seq", _images())))
    newer = camera.next_frame(after=3, timeout_s=SETTLE_S)
    assert isinstance(newer, Frame)
    latest = camera.latest_frame()
    assert isinstance(latest, Frame)
    assert latest.number >= newer.number > 3


def test_video_file_is_read_and_looped(tmp_path: Path, started: list[Camera]) -> None:
    images = _images()
    path = write_video(tmp_path / "voter.avi", images, fps=10.0)
    camera = _start(started, VideoFileSource(path))
    frame = camera.next_frame(after=len(images) + 1, timeout_s=SETTLE_S)
    assert isinstance(frame, Frame), f"video did not loop: {frame}"
    assert frame.pixels.shape == (120, 160, 3)


def test_missing_device_is_not_found_and_gives_no_frame(started: list[Camera]) -> None:
    camera = _start(started, DeviceSource(63))
    status = _wait_state(camera, CameraState.NOT_FOUND)
    assert status.state is CameraState.NOT_FOUND
    assert camera.latest_frame() == status


def test_missing_video_file_is_not_found(tmp_path: Path, started: list[Camera]) -> None:
    camera = _start(started, VideoFileSource(tmp_path / "absent.avi"))
    assert _wait_state(camera, CameraState.NOT_FOUND).state is CameraState.NOT_FOUND


def test_source_that_goes_away_is_disconnected_then_recovers(tmp_path: Path, started: list[Camera]) -> None:
    folder = tmp_path / "seq"
    images = _images()
    camera = _start(started, ImageSequenceSource(write_sequence(folder, images)))
    assert isinstance(camera.next_frame(after=0, timeout_s=SETTLE_S), Frame)
    for file in folder.iterdir():
        file.unlink()
    status = _wait_state(camera, CameraState.DISCONNECTED)
    assert status.state is CameraState.DISCONNECTED, f"unplugged source reported {status}"
    assert isinstance(camera.latest_frame(), CameraStatus), "a stale frame outlived the source"
    write_sequence(folder, images)
    assert isinstance(camera.next_frame(after=0, timeout_s=SETTLE_S), Frame), "camera did not come back"
    assert camera.status().state is CameraState.READY


def test_blank_frames_are_reported_as_empty(tmp_path: Path, started: list[Camera]) -> None:
    blank = [np.zeros((120, 160, 3), np.uint8)] * 8
    camera = _start(started, ImageSequenceSource(write_sequence(tmp_path / "blank", blank)))
    status = _wait_state(camera, CameraState.EMPTY_FRAMES)
    assert status.state is CameraState.EMPTY_FRAMES
    assert camera.latest_frame() == status


def test_closed_camera_reports_closed_and_stops_its_thread(tmp_path: Path) -> None:
    camera = open_camera(_config(ImageSequenceSource(write_sequence(tmp_path / "seq", _images()))))
    camera.start()
    assert isinstance(camera.next_frame(after=0, timeout_s=SETTLE_S), Frame)
    camera.close()
    assert camera.status().state is CameraState.CLOSED
    assert isinstance(camera.latest_frame(), CameraStatus)


def test_capture_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_fps"):
        CaptureConfig(source=DeviceSource(0), max_fps=0)
    with pytest.raises(ValueError, match="read limits"):
        CaptureConfig(source=DeviceSource(0), empty_frame_limit=0)


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("device:0", DeviceSource(0)),
        ("video:/srv/voter.avi", VideoFileSource(Path("/srv/voter.avi"))),
        ("images:/srv/v/frame_%03d.png", ImageSequenceSource("/srv/v/frame_%03d.png")),
    ],
)
def test_config_text_names_a_source(text: str, source: CameraSource) -> None:
    assert parse_source(text) == source


@pytest.mark.parametrize("text", ["", "device:", "device:front", "usb:0", "images:/srv/v/frame.png"])
def test_config_text_that_names_no_source_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="camera source"):
        parse_source(text)
