"""The face check the runtime runs for a card: latest camera frames against the card photo, a verdict out."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_app.identity.face import CardPhotoRefusal, FaceMatcher, MatchVerdict, QualityRefusal
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from hal.camera import Camera, CameraState, CameraStatus

ATTEMPTS = 5
FRAME_WAIT_S = 0.5


@dataclass(frozen=True)
class FaceOutcome:
    verdict: FaceVerdict
    distance: float | None
    problem: FaceProblem | None = None


class CameraFaceCheck:
    """The card photo described once, then a few fresh frames tried until one passes the quality gate; nothing is
    kept after the call."""

    def __init__(self, camera: Camera, matcher: FaceMatcher) -> None:
        self._camera = camera
        self._matcher = matcher

    def __call__(self, photo: bytes) -> FaceOutcome:
        card = self._matcher.card_face(photo)
        if isinstance(card, CardPhotoRefusal):
            return FaceOutcome(FaceVerdict.UNAVAILABLE, None, FaceProblem(f"card_photo_{card.problem.value}"))
        last = FaceProblem.CAMERA_NOT_WORKING
        seen = -1
        for _ in range(ATTEMPTS):
            frame = self._camera.next_frame(seen, FRAME_WAIT_S)
            if isinstance(frame, CameraStatus):
                if frame.has_frames or frame.state is CameraState.STARTING:
                    continue
                return FaceOutcome(FaceVerdict.UNAVAILABLE, None, FaceProblem.CAMERA_NOT_WORKING)
            seen = frame.number
            live = self._matcher.check_live(frame.pixels)
            if isinstance(live, QualityRefusal):
                last = FaceProblem(live.problem.value)
                continue
            found = self._matcher.compare(live, card)
            verdict = FaceVerdict.MATCH if found.verdict is MatchVerdict.MATCH else FaceVerdict.NO_MATCH
            return FaceOutcome(verdict, found.distance)
        return FaceOutcome(FaceVerdict.UNAVAILABLE, None, last)
