"""The face models (dlib's HOG detector, 5-point landmarks, ResNet embedding): found on disk, loaded once, lazily."""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RgbImage = npt.NDArray[np.uint8]
Embedding = npt.NDArray[np.float64]

CHIP_SIZE = 150
"""Side of the aligned face chip the embedding network was trained on."""

_MODELS_PACKAGE = "face_recognition_models"
_LANDMARKS = "shape_predictor_5_face_landmarks.dat"
_EMBEDDING = "dlib_face_recognition_resnet_model_v1.dat"


class ModelFilesMissingError(FileNotFoundError):
    """The model files are not installed: a set-up fault, raised at first use, never at import."""


@dataclass(frozen=True)
class ModelFiles:
    landmarks: Path
    embedding: Path


def installed_model_files(models_dir: Path | None = None) -> ModelFiles:
    """The model files in `models_dir`, or in the installed `face-recognition-models` package (not imported)."""
    if models_dir is None:
        spec = importlib.util.find_spec(_MODELS_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModelFilesMissingError(f"package {_MODELS_PACKAGE} is not installed")
        models_dir = Path(next(iter(spec.submodule_search_locations))) / "models"
    files = ModelFiles(landmarks=models_dir / _LANDMARKS, embedding=models_dir / _EMBEDDING)
    for path in (files.landmarks, files.embedding):
        if not path.is_file():
            raise ModelFilesMissingError(f"face model file missing: {path}")
    return files


@dataclass(frozen=True)
class FaceBox:
    """A detected face in image pixels; may reach past the image edge when the face is cut off."""

    left: int
    top: int
    width: int
    height: int

    def scaled(self, factor: float) -> FaceBox:
        return FaceBox(
            round(self.left * factor), round(self.top * factor), round(self.width * factor), round(self.height * factor)
        )

    def inside(self, width: int, height: int) -> bool:
        return self.left >= 0 and self.top >= 0 and self.left + self.width <= width and self.top + self.height <= height


def _dlib() -> Any:
    """dlib's native module, imported on first use so that importing the firmware stays cheap."""
    import dlib  # type: ignore[import-untyped]

    return dlib


@dataclass(frozen=True)
class _Loaded:
    detector: Any = field(repr=False)
    landmarks: Any = field(repr=False)
    embedder: Any = field(repr=False)


class FaceModels:
    """Detection, alignment and embedding; the ~30 MB of models load on the first call.

    dlib's network keeps working buffers, so calls are serialised: one face at a time per process.
    """

    def __init__(self, models_dir: Path | None = None) -> None:
        self._models_dir = models_dir
        self._loaded: _Loaded | None = None
        self._lock = threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> None:
        """Load now (e.g. at start-up self-test) rather than on the first voter."""
        self._models()

    def detect(self, image: RgbImage, upsample: int, threshold: float) -> list[FaceBox]:
        """Frontal faces scoring above `threshold`, strongest first; `upsample` doubles the image to find small faces."""
        with self._lock:
            rectangles, scores, _ = self._models().detector.run(image, upsample, threshold)
        ranked = sorted(zip(rectangles, scores, strict=True), key=lambda pair: -float(pair[1]))
        return [FaceBox(int(r.left()), int(r.top()), int(r.width()), int(r.height())) for r, _ in ranked]

    def align(self, image: RgbImage, box: FaceBox) -> RgbImage:
        """The face cut out, rotated level and scaled to the CHIP_SIZE square the embedding expects."""
        dlib = _dlib()
        rectangle = dlib.rectangle(box.left, box.top, box.left + box.width - 1, box.top + box.height - 1)
        with self._lock:
            shape = self._models().landmarks(image, rectangle)
            chip = dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=0.25)
        return np.asarray(chip, dtype=np.uint8)

    def embed(self, chip: RgbImage) -> Embedding:
        """The 128-number face descriptor of an aligned chip; same person => small Euclidean distance."""
        with self._lock:
            descriptor = self._models().embedder.compute_face_descriptor(np.ascontiguousarray(chip))
        return np.asarray(descriptor, dtype=np.float64)

    def _models(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                dlib = _dlib()
                files = installed_model_files(self._models_dir)
                self._loaded = _Loaded(
                    detector=dlib.get_frontal_face_detector(),
                    landmarks=dlib.shape_predictor(str(files.landmarks)),
                    embedder=dlib.face_recognition_model_v1(str(files.embedding)),
                )
            return self._loaded
