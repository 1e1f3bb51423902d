"""Match scores on public photos: same person below the threshold, different people above, card problems typed."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware_app.identity.face import (
    CardFace,
    CardPhotoProblem,
    CardPhotoRefusal,
    FaceMatch,
    FaceMatchConfig,
    FaceMatcher,
    FaceModels,
    MatchVerdict,
    ModelFilesMissingError,
    QualityProblem,
    QualityRefusal,
)
from harness.camera.frames import FIXTURES, BgrImage
from harness.camera.voters import FaceCase

PERSON_OF = {
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "obama3.jpg": "obama",
    "biden.jpg": "biden",
    "astronaut.jpg": "collins",
}
"""Who each fixture shows, as SOURCES.md records it. obama_partial_face.jpg is a crop of obama.jpg: left out."""


@pytest.fixture(scope="module")
def fixture_faces(matcher: FaceMatcher) -> dict[str, CardFace]:
    faces: dict[str, CardFace] = {}
    for name in PERSON_OF:
        face = matcher.card_face((FIXTURES / name).read_bytes())
        assert isinstance(face, CardFace), f"{name}: {face}"
        faces[name] = face
    return faces


def _distance(a: CardFace, b: CardFace) -> float:
    return float(np.linalg.norm(a.embedding - b.embedding))


def test_same_person_photos_are_closer_than_the_threshold(matcher: FaceMatcher, fixture_faces: dict[str, CardFace]) -> None:
    pairs = [(a, b) for a, b in itertools.combinations(PERSON_OF, 2) if PERSON_OF[a] == PERSON_OF[b]]
    assert len(pairs) == 3
    for a, b in pairs:
        distance = _distance(fixture_faces[a], fixture_faces[b])
        assert distance <= matcher.config.match_threshold, f"{a} vs {b}: {distance:.3f}"


def test_different_people_are_farther_than_the_threshold(matcher: FaceMatcher, fixture_faces: dict[str, CardFace]) -> None:
    pairs = [(a, b) for a, b in itertools.combinations(PERSON_OF, 2) if PERSON_OF[a] != PERSON_OF[b]]
    assert len(pairs) == 7
    for a, b in pairs:
        distance = _distance(fixture_faces[a], fixture_faces[b])
        assert distance > matcher.config.match_threshold, f"{a} vs {b}: {distance:.3f}"


def test_card_holders_in_front_of_the_camera_match(matcher: FaceMatcher, genuine: list[FaceCase]) -> None:
    for case in genuine:
        for frame in case.live:
            result = matcher.check(frame, case.card_photo)
            assert isinstance(result, FaceMatch), f"{case.name}: {result}"
            assert result.verdict is MatchVerdict.MATCH, f"{case.name}: distance {result.distance:.3f}"
            assert result.distance <= result.threshold == matcher.config.match_threshold


def test_impostors_are_flagged_as_no_match(matcher: FaceMatcher, impostors: list[FaceCase]) -> None:
    for case in impostors:
        result = matcher.check(case.live[0], case.card_photo)
        assert isinstance(result, FaceMatch), f"{case.name}: {result}"
        assert result.verdict is MatchVerdict.NO_MATCH, f"{case.name}: distance {result.distance:.3f}"


def test_a_stricter_threshold_turns_the_same_distance_into_no_match(genuine: list[FaceCase], matcher: FaceMatcher) -> None:
    case = genuine[0]
    loose = matcher.check(case.live[0], case.card_photo)
    assert isinstance(loose, FaceMatch)
    strict = FaceMatcher(FaceMatchConfig(match_threshold=loose.distance * 0.9), matcher.models)
    result = strict.check(case.live[0], case.card_photo)
    assert isinstance(result, FaceMatch)
    assert result.verdict is MatchVerdict.NO_MATCH
    assert result.distance == pytest.approx(loose.distance)


@pytest.mark.parametrize("photo", [b"", b"not a jpeg at all", b"\xff\xd8\xff\xe0" + b"\x00" * 64])
def test_an_unreadable_card_photo_gives_no_score(photo: bytes, matcher: FaceMatcher, genuine: list[FaceCase]) -> None:
    result = matcher.check(genuine[0].live[0], photo)
    assert result == CardPhotoRefusal(CardPhotoProblem.UNREADABLE)


def test_a_card_photo_without_a_face_gives_no_score(matcher: FaceMatcher, bad: dict[QualityProblem, BgrImage]) -> None:
    ok, encoded = cv2.imencode(".jpg", bad[QualityProblem.NO_FACE])
    assert ok
    result = matcher.card_face(encoded.tobytes())
    assert isinstance(result, CardPhotoRefusal)
    assert result.problem is CardPhotoProblem.NO_FACE


def test_a_bad_live_frame_is_refused_before_the_card_is_looked_at(
    matcher: FaceMatcher, bad: dict[QualityProblem, BgrImage]
) -> None:
    result = matcher.check(bad[QualityProblem.BLURRED], b"")
    assert isinstance(result, QualityRefusal)
    assert result.problem is QualityProblem.BLURRED


def test_models_load_on_first_use_not_on_construction() -> None:
    models = FaceModels()
    assert not models.loaded
    FaceMatcher(models=models)
    assert not models.loaded
    models.load()
    assert models.loaded


def test_missing_model_files_fail_at_first_use(tmp_path: Path) -> None:
    matcher = FaceMatcher(FaceMatchConfig(models_dir=tmp_path))
    assert isinstance(matcher.card_face(b""), CardPhotoRefusal)
    with pytest.raises(ModelFilesMissingError, match="shape_predictor_5_face_landmarks"):
        matcher.models.load()


def test_config_rejects_inverted_brightness_bounds() -> None:
    with pytest.raises(ValueError, match="brightness"):
        FaceMatchConfig(min_brightness=200.0, max_brightness=100.0)


def test_importing_the_face_package_loads_neither_dlib_nor_the_models_package() -> None:
    probe = (
        "import sys, firmware_app.identity.face as face; "
        "face.FaceModels().load(); "
        "print('face_recognition_models' in sys.modules, 'pkg_resources' in sys.modules)"
    )
    before = "import sys, firmware_app.identity.face; print('dlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", before], capture_output=True, text=True, check=True).stdout.split() == ["False"]
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["False", "False"], "loading the models imported face_recognition_models (and its pkg_resources)"
