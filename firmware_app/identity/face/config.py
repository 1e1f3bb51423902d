"""Face-match settings: thresholds and detector options, with defaults measured in docs/face-match.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FaceMatchConfig:
    """Every threshold the face check uses. Distances are Euclidean between 128-D descriptors."""

    match_threshold: float = 0.6
    """At or below: MATCH. dlib's published operating point; our fixtures: same person <= 0.45, others >= 0.80."""
    detection_threshold: float = 0.3
    """HOG detector score a face must reach; rejects weak hits such as the emblem on a space suit."""
    min_face_px: int = 100
    """Face width in live-frame pixels: a 15 cm face about 80 cm from a 640x480 camera with a 60-degree lens."""
    min_brightness: float = 45.0
    """Mean grey level (0-255) of the face; fixtures 98-174 in daylight, 49-87 at half the light."""
    max_brightness: float = 215.0
    min_sharpness: float = 0.2
    """Laplacian variance / grey variance of the face at 64x64: sharp fixtures >= 0.34, blur sigma 2 <= 0.14."""
    detect_max_side: int = 640
    """Frames larger than this are shrunk for detection (faster); boxes are mapped back."""
    live_upsample: int = 0
    card_upsample: int = 1
    """A card photo with no face found at its own size is looked at again this many times doubled."""
    models_dir: Path | None = None
    """Where the .dat model files are; None means the installed face-recognition-models package."""

    def __post_init__(self) -> None:
        if not 0.0 < self.match_threshold < 2.0:
            raise ValueError("face match_threshold must be between 0 and 2")
        if self.min_face_px < 40 or self.detect_max_side < 160:
            raise ValueError("face min_face_px must be >= 40 and detect_max_side >= 160")
        if not 0.0 <= self.min_brightness < self.max_brightness <= 255.0:
            raise ValueError("face brightness bounds must satisfy 0 <= min < max <= 255")
        if self.min_sharpness < 0.0 or self.live_upsample not in (0, 1, 2) or self.card_upsample not in (0, 1, 2):
            raise ValueError("face min_sharpness must be >= 0 and upsample 0, 1 or 2")
