"""Makes camera-like frames and chip-like card photos from the public face fixtures, and bad frames from them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from firmware_app.identity.face.models import FaceBox, FaceModels

BgrImage = npt.NDArray[np.uint8]

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "faces"
FRAME_WIDTH, FRAME_HEIGHT = 640, 480
CARD_WIDTH, CARD_HEIGHT = 240, 320
_WALL = (128, 128, 128)


def load(name: str) -> BgrImage:
    """A fixture photo as OpenCV reads it (BGR)."""
    image = cv2.imread(str(FIXTURES / name), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"face fixture missing or unreadable: {FIXTURES / name}")
    return np.asarray(image, dtype=np.uint8)


def face_box(models: FaceModels, image: BgrImage) -> FaceBox:
    """The strongest face in a fixture (the photos were chosen to show one clearly)."""
    rgb = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    faces = models.detect(rgb, 1, 0.3)
    if not faces:
        raise ValueError("fixture shows no face")
    return faces[0]


def _window(image: BgrImage, centre_x: float, centre_y: float, width: int, height: int) -> BgrImage:
    """A width x height cut centred on a point; what lies outside the photo is a plain grey wall."""
    pad = max(width, height)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=_WALL)
    left = round(centre_x - width / 2) + pad
    top = round(centre_y - height / 2) + pad
    return np.ascontiguousarray(padded[top : top + height, left : left + width])


def live_frame(models: FaceModels, image: BgrImage, face_px: int = 180, shift_x: float = 0.0) -> BgrImage:
    """A 640x480 frame with the face `face_px` wide, centred (or moved by `shift_x` frame widths)."""
    box = face_box(models, image)
    factor = face_px / box.width
    scaled = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    centre_x = (box.left + box.width / 2) * factor - shift_x * FRAME_WIDTH
    centre_y = (box.top + box.height / 2) * factor + FRAME_HEIGHT * 0.1
    return _window(np.asarray(scaled, dtype=np.uint8), centre_x, centre_y, FRAME_WIDTH, FRAME_HEIGHT)


def card_photo(models: FaceModels, image: BgrImage, quality: int = 80) -> bytes:
    """A 240x320 head-and-shoulders JPEG, as an identity card chip stores the holder's photo."""
    box = face_box(models, image)
    factor = CARD_WIDTH * 0.5 / box.width
    scaled = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    centre_x = (box.left + box.width / 2) * factor
    centre_y = (box.top + box.height / 2) * factor + CARD_HEIGHT * 0.08
    portrait = _window(np.asarray(scaled, dtype=np.uint8), centre_x, centre_y, CARD_WIDTH, CARD_HEIGHT)
    ok, encoded = cv2.imencode(".jpg", portrait, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def mirrored(frame: BgrImage) -> BgrImage:
    """The same photo flipped left to right: the nearest thing to a second photo when only one exists."""
    return np.ascontiguousarray(frame[:, ::-1])


def darkened(frame: BgrImage, gain: float = 0.2) -> BgrImage:
    return np.asarray(cv2.convertScaleAbs(frame, alpha=gain), dtype=np.uint8)


def glared(frame: BgrImage, lift: float = 150.0) -> BgrImage:
    return np.asarray(cv2.convertScaleAbs(frame, alpha=1.0, beta=lift), dtype=np.uint8)


def blurred(frame: BgrImage, sigma: float = 4.0) -> BgrImage:
    return np.asarray(cv2.GaussianBlur(frame, (0, 0), sigma), dtype=np.uint8)


def side_by_side(left: BgrImage, right: BgrImage) -> BgrImage:
    """Two people in one frame: each frame's middle half, put next to each other."""
    quarter = FRAME_WIDTH // 4
    return np.ascontiguousarray(np.hstack([left[:, quarter:-quarter], right[:, quarter:-quarter]]))


def empty_scene(models: FaceModels, image: BgrImage) -> BgrImage:
    """The photo's part below the face (shoulders, hands): the camera sees a body but no face."""
    box = face_box(models, image)
    below = image[min(image.shape[0] - 1, box.top + box.height * 2) :, :]
    return np.asarray(cv2.resize(below, (FRAME_WIDTH, FRAME_HEIGHT), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def write_sequence(folder: Path, frames: list[BgrImage]) -> str:
    """Numbered PNG files OpenCV reads with `cv2.CAP_IMAGES`; returns the printf-style pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, frame in enumerate(frames):
        if not cv2.imwrite(str(folder / f"frame_{number:03d}.png"), frame):
            raise OSError(f"cannot write frame into {folder}")
    return str(folder / "frame_%03d.png")


def write_video(path: Path, frames: list[BgrImage], fps: float = 5.0) -> Path:
    """An MJPG AVI, which OpenCV's own backends both write and read."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write video {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
