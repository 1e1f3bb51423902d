"""Face check: a quality gate on the live frame and an offline match score against the card photo."""

from firmware_app.identity.face.config import FaceMatchConfig
from firmware_app.identity.face.match import (
    CardFace,
    CardPhotoProblem,
    CardPhotoRefusal,
    FaceCheck,
    FaceMatch,
    FaceMatcher,
    MatchVerdict,
)
from firmware_app.identity.face.models import FaceModels, ModelFilesMissingError
from firmware_app.identity.face.quality import LiveFace, QualityFigures, QualityProblem, QualityRefusal

__all__ = [
    "CardFace",
    "CardPhotoProblem",
    "CardPhotoRefusal",
    "FaceCheck",
    "FaceMatch",
    "FaceMatchConfig",
    "FaceMatcher",
    "FaceModels",
    "LiveFace",
    "MatchVerdict",
    "ModelFilesMissingError",
    "QualityFigures",
    "QualityProblem",
    "QualityRefusal",
]
