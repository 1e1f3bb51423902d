"""The quality gate on a live frame: exactly one face, large, whole, lit and sharp, or what to fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from firmware_app.identity.face.config import FaceMatchConfig
from firmware_app.identity.face.models import FaceBox, FaceModels, RgbImage

BgrImage = npt.NDArray[np.uint8]

_MEASURE_SIDE = 64
"""Faces are measured shrunk to this square, so sharpness means the same at any distance."""


class QualityProblem(enum.StrEnum):
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_CUT_OFF = "face_cut_off"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRED = "blurred"


@dataclass(frozen=True)
class QualityRefusal:
    """The live frame cannot be scored; `problem` says what to fix (the terminal's texts say it in Persian)."""

    problem: QualityProblem
    measured: float | None = None


@dataclass(frozen=True)
class QualityFigures:
    face_px: int
    brightness: float
    sharpness: float


@dataclass(frozen=True)
class LiveFace:
    """The one good face in a live frame, aligned for the embedding. Lives in memory only."""

    box: FaceBox
    figures: QualityFigures
    chip: RgbImage = field(repr=False)


def _refuse(problem: QualityProblem, measured: float | None = None) -> QualityRefusal:
    return QualityRefusal(problem, measured)


def find_faces(models: FaceModels, rgb: RgbImage, max_side: int, upsample: int, threshold: float) -> list[FaceBox]:
    """Faces in image pixels; a large image is shrunk to `max_side` for the detector and boxes scaled back."""
    height, width = rgb.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    small = rgb if factor == 1.0 else cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    boxes = models.detect(np.ascontiguousarray(small), upsample, threshold)
    return boxes if factor == 1.0 else [box.scaled(1.0 / factor) for box in boxes]


def measure(gray: npt.NDArray[np.uint8], box: FaceBox) -> tuple[float, float]:
    """(brightness, sharpness) of the face: mean grey level, and Laplacian variance over grey variance."""
    face = gray[max(0, box.top) : box.top + box.height, max(0, box.left) : box.left + box.width]
    square = cv2.resize(face, (_MEASURE_SIDE, _MEASURE_SIDE), interpolation=cv2.INTER_AREA).astype(np.float64)
    contrast = max(float(square.var()), 1.0)
    return float(square.mean()), float(cv2.Laplacian(square, cv2.CV_64F).var()) / contrast


def check_live_frame(frame: BgrImage, models: FaceModels, config: FaceMatchConfig) -> LiveFace | QualityRefusal:
    """Runs the checks in the order an operator fixes things: who is in view, where, then light and focus."""
    gray = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    rgb = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    faces = find_faces(models, rgb, config.detect_max_side, config.live_upsample, config.detection_threshold)
    if not faces:
        frame_brightness = float(gray.mean())
        if frame_brightness < config.min_brightness:
            return _refuse(QualityProblem.TOO_DARK, frame_brightness)
        return _refuse(QualityProblem.NO_FACE)
    if len(faces) > 1:
        return _refuse(QualityProblem.SEVERAL_FACES, float(len(faces)))
    box = faces[0]
    height, width = gray.shape
    if not box.inside(width, height):
        return _refuse(QualityProblem.FACE_CUT_OFF)
    if box.width < config.min_face_px:
        return _refuse(QualityProblem.FACE_TOO_SMALL, float(box.width))
    brightness, sharpness = measure(gray, box)
    if brightness < config.min_brightness:
        return _refuse(QualityProblem.TOO_DARK, brightness)
    if brightness > config.max_brightness:
        return _refuse(QualityProblem.TOO_BRIGHT, brightness)
    if sharpness < config.min_sharpness:
        return _refuse(QualityProblem.BLURRED, sharpness)
    figures = QualityFigures(face_px=box.width, brightness=brightness, sharpness=sharpness)
    return LiveFace(box=box, figures=figures, chip=models.align(rgb, box))
