"""One face matcher (models loaded once) and the harness's face cases, shared by the face tests."""

from __future__ import annotations

import pytest

from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.face.quality import QualityProblem
from harness.camera.frames import BgrImage
from harness.camera.voters import FaceCase, bad_frames, genuine_cases, impostor_cases


@pytest.fixture(scope="session")
def matcher() -> FaceMatcher:
    return FaceMatcher()


@pytest.fixture(scope="session")
def genuine(matcher: FaceMatcher) -> list[FaceCase]:
    return genuine_cases(matcher.models)


@pytest.fixture(scope="session")
def impostors(matcher: FaceMatcher) -> list[FaceCase]:
    return impostor_cases(matcher.models)


@pytest.fixture(scope="session")
def bad(matcher: FaceMatcher) -> dict[QualityProblem, BgrImage]:
    return bad_frames(matcher.models)
