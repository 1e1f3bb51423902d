"""Face match: the live face against the card photo, offline; a distance and a verdict that advise the operator."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import cv2
import numpy as np

from firmware_app.identity.face.config import FaceMatchConfig
from firmware_app.identity.face.models import Embedding, FaceModels
from firmware_app.identity.face.quality import (
    BgrImage,
    LiveFace,
    QualityFigures,
    QualityRefusal,
    check_live_frame,
    find_faces,
)


class MatchVerdict(enum.StrEnum):
    """Advice only: the operator always decides; confirming a NO_MATCH takes the logged override path."""

    MATCH = "match"
    NO_MATCH = "no_match"


@dataclass(frozen=True)
class FaceMatch:
    """`distance` between descriptors (0 = identical); MATCH when it is at or below `threshold`."""

    distance: float
    threshold: float
    verdict: MatchVerdict
    live: QualityFigures


class CardPhotoProblem(enum.StrEnum):
    UNREADABLE = "unreadable"
    NO_FACE = "no_face"


@dataclass(frozen=True)
class CardPhotoRefusal:
    """The card photo gives no face to compare with; the operator compares by eye, without a score."""

    problem: CardPhotoProblem


@dataclass(frozen=True)
class CardFace:
    """The card photo's descriptor; compute once per voter and compare with each new live frame."""

    embedding: Embedding = field(repr=False)


FaceCheck = FaceMatch | QualityRefusal | CardPhotoRefusal


def _card_refusal(problem: CardPhotoProblem) -> CardPhotoRefusal:
    return CardPhotoRefusal(problem)


class FaceMatcher:
    """The face check a terminal runs. Blocking (tens of ms per face): call it from a worker thread."""

    def __init__(self, config: FaceMatchConfig | None = None, models: FaceModels | None = None) -> None:
        self.config = config or FaceMatchConfig()
        self.models = models or FaceModels(self.config.models_dir)

    def check_live(self, frame: BgrImage) -> LiveFace | QualityRefusal:
        """The quality gate on one live camera frame (BGR, as OpenCV captures it)."""
        return check_live_frame(frame, self.models, self.config)

    def card_face(self, photo: bytes) -> CardFace | CardPhotoRefusal:
        """Decode the chip's JPEG photo and describe its strongest face (looked for at 1x, then enlarged)."""
        buffer = np.frombuffer(photo, dtype=np.uint8)
        decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
        if decoded is None:
            return _card_refusal(CardPhotoProblem.UNREADABLE)
        rgb = np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        config = self.config
        for upsample in sorted({0, config.card_upsample}):
            faces = find_faces(self.models, rgb, config.detect_max_side, upsample, config.detection_threshold)
            if faces:
                return CardFace(self.models.embed(self.models.align(rgb, faces[0])))
        return _card_refusal(CardPhotoProblem.NO_FACE)

    def compare(self, live: LiveFace, card: CardFace) -> FaceMatch:
        distance = float(np.linalg.norm(self.models.embed(live.chip) - card.embedding))
        threshold = self.config.match_threshold
        verdict = MatchVerdict.MATCH if distance <= threshold else MatchVerdict.NO_MATCH
        return FaceMatch(distance=distance, threshold=threshold, verdict=verdict, live=live.figures)

    def check(self, frame: BgrImage, photo: bytes) -> FaceCheck:
        """Gate the live frame, then score it against the card photo: a match, or why there is no score."""
        live = self.check_live(frame)
        if isinstance(live, QualityRefusal):
            return live
        card = self.card_face(photo)
        if isinstance(card, CardPhotoRefusal):
            return card
        return self.compare(live, card)
