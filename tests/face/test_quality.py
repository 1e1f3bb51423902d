"""The quality gate refuses each kind of bad frame with the matching Persian advice, and passes good ones."""

from __future__ import annotations

import pytest

from firmware_app.flow import texts
from firmware_app.identity.face import FaceMatcher, LiveFace, QualityProblem, QualityRefusal
from firmware_app.identity.face.match import CardPhotoProblem
from firmware_app.identity.verdict import FaceProblem
from harness.camera.frames import BgrImage, load
from harness.camera.voters import FaceCase


@pytest.mark.parametrize("problem", list(QualityProblem))
def test_each_bad_frame_is_refused_for_its_own_reason(
    problem: QualityProblem, matcher: FaceMatcher, bad: dict[QualityProblem, BgrImage]
) -> None:
    result = matcher.check_live(bad[problem])
    assert isinstance(result, QualityRefusal), f"{problem} frame passed the gate: {result}"
    assert result.problem is problem


def test_every_refusal_tells_the_operator_in_persian() -> None:
    for problem in QualityProblem:
        message = texts.FACE_PROBLEMS[FaceProblem(problem.value)]
        assert any("\u0600" <= char <= "\u06ff" for char in message), f"{problem} message is not Persian"


def test_live_frames_of_every_voter_pass_the_gate(
    matcher: FaceMatcher, genuine: list[FaceCase], impostors: list[FaceCase]
) -> None:
    for case in genuine + impostors:
        for frame in case.live:
            result = matcher.check_live(frame)
            assert isinstance(result, LiveFace), f"{case.name}: good frame refused: {result}"
            config = matcher.config
            assert result.figures.face_px >= config.min_face_px
            assert config.min_brightness <= result.figures.brightness <= config.max_brightness
            assert result.figures.sharpness >= config.min_sharpness


def test_a_dark_frame_is_refused_even_when_no_face_can_be_found(matcher: FaceMatcher, bad: dict[QualityProblem, BgrImage]) -> None:
    black_room = (bad[QualityProblem.TOO_DARK] // 8).astype("uint8")
    result = matcher.check_live(black_room)
    assert isinstance(result, QualityRefusal)
    assert result.problem is QualityProblem.TOO_DARK


def test_the_published_partial_face_photo_is_refused_as_cut_off(matcher: FaceMatcher) -> None:
    result = matcher.check_live(load("obama_partial_face.jpg"))
    assert isinstance(result, QualityRefusal)
    assert result.problem is QualityProblem.FACE_CUT_OFF


def test_every_refusal_of_the_face_module_is_a_reason_the_flow_carries() -> None:
    """The live check hands the flow a FaceProblem named after the face module's problem: none may be missing."""
    assert {FaceProblem(problem.value) for problem in QualityProblem} <= set(FaceProblem)
    assert {FaceProblem(f"card_photo_{problem.value}") for problem in CardPhotoProblem} <= set(FaceProblem)
    assert set(texts.FACE_PROBLEMS) == set(FaceProblem), "every reason has its operator text"
