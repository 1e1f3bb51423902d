"""The face check the runtime runs: the real OpenCV camera playing the harness's frames against a card photo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_app.identity.face import CardFace, CardPhotoRefusal, FaceMatcher, QualityProblem
from firmware_app.identity.live_check import CameraFaceCheck, FaceOutcome
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from harness.camera.booth import CameraBooth
from harness.camera.frames import BgrImage
from harness.camera.voters import FaceCase, write_camera_source


class CountingMatcher(FaceMatcher):
    """The real matcher, counting how often it describes a card photo."""

    def __init__(self, models_from: FaceMatcher) -> None:
        super().__init__(models_from.config, models_from.models)
        self.card_faces = 0

    def card_face(self, photo: bytes) -> CardFace | CardPhotoRefusal:
        self.card_faces += 1
        return super().card_face(photo)


@pytest.fixture
def booth() -> Iterator[CameraBooth]:
    camera = CameraBooth()
    try:
        yield camera
    finally:
        camera.close()


def _check(booth: CameraBooth, matcher: FaceMatcher, folder: Path, frames: list[BgrImage], photo: bytes
           ) -> FaceOutcome:
    booth.step_in(write_camera_source(folder, frames))
    return CameraFaceCheck(booth, matcher)(photo)


def test_the_holder_matches_and_someone_else_does_not(
    booth: CameraBooth, matcher: FaceMatcher, genuine: list[FaceCase], impostors: list[FaceCase], tmp_path: Path
) -> None:
    holder, impostor = genuine[0], impostors[0]
    matched = _check(booth, matcher, tmp_path / "holder", list(holder.live), holder.card_photo)
    assert matched.verdict is FaceVerdict.MATCH and matched.distance is not None and matched.problem is None
    refused = _check(booth, matcher, tmp_path / "impostor", list(impostor.live), impostor.card_photo)
    assert refused.verdict is FaceVerdict.NO_MATCH and refused.distance is not None
    assert refused.distance > matched.distance


def test_the_card_photo_is_described_once_however_many_frames_fail_the_gate(
    booth: CameraBooth, matcher: FaceMatcher, genuine: list[FaceCase], bad: dict[QualityProblem, BgrImage],
    tmp_path: Path
) -> None:
    counting = CountingMatcher(matcher)
    outcome = _check(booth, counting, tmp_path / "blurred", [bad[QualityProblem.BLURRED]], genuine[0].card_photo)
    assert outcome == FaceOutcome(FaceVerdict.UNAVAILABLE, None, FaceProblem.BLURRED)
    assert counting.card_faces == 1


def test_an_unreadable_card_photo_is_said_before_any_frame_is_looked_at(
    booth: CameraBooth, matcher: FaceMatcher, genuine: list[FaceCase], tmp_path: Path
) -> None:
    outcome = _check(booth, matcher, tmp_path / "holder", list(genuine[0].live), b"\xff\xd8 not a whole JPEG")
    assert outcome == FaceOutcome(FaceVerdict.UNAVAILABLE, None, FaceProblem.CARD_PHOTO_UNREADABLE)


def test_a_camera_that_gives_no_frames_is_said_as_such(
    booth: CameraBooth, matcher: FaceMatcher, genuine: list[FaceCase], tmp_path: Path
) -> None:
    booth.step_in(write_camera_source(tmp_path / "holder", list(genuine[0].live)))
    booth.close()
    outcome = CameraFaceCheck(booth, matcher)(genuine[0].card_photo)
    assert outcome.verdict is FaceVerdict.UNAVAILABLE and outcome.distance is None
    assert outcome.problem is FaceProblem.CAMERA_NOT_WORKING
