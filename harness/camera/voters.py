"""Face cases for the demo's synthetic voters: genuine holders, impostors and bad frames, from public photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drivers.camera.source import ImageSequenceSource
from firmware_app.identity.face.models import FaceModels
from firmware_app.identity.face.quality import QualityProblem
from harness.camera.frames import (
    BgrImage,
    blurred,
    card_photo,
    darkened,
    empty_scene,
    glared,
    live_frame,
    load,
    mirrored,
    side_by_side,
    write_sequence,
)


@dataclass(frozen=True)
class FaceCase:
    """A card photo and what the camera sees; `genuine` says whether the card's holder is the one in view."""

    name: str
    card_photo: bytes = field(repr=False)
    live: tuple[BgrImage, ...] = field(repr=False)
    genuine: bool


def _card(models: FaceModels, fixture: str) -> bytes:
    return card_photo(models, load(fixture))


def _live(models: FaceModels, fixture: str) -> BgrImage:
    return live_frame(models, load(fixture))


def genuine_cases(models: FaceModels) -> list[FaceCase]:
    """Holders in front of the camera. Obama's live photos differ from his card's; the others are mirrored."""
    return [
        FaceCase("obama", _card(models, "obama.jpg"), (_live(models, "obama2.jpg"), _live(models, "obama3.jpg")), True),
        FaceCase("biden", _card(models, "biden.jpg"), (mirrored(_live(models, "biden.jpg")),), True),
        FaceCase("collins", _card(models, "astronaut.jpg"), (mirrored(_live(models, "astronaut.jpg")),), True),
    ]


def impostor_cases(models: FaceModels) -> list[FaceCase]:
    """Someone else in front of the camera holding a card."""
    return [
        FaceCase("biden-with-obama-card", _card(models, "obama.jpg"), (_live(models, "biden.jpg"),), False),
        FaceCase("collins-with-biden-card", _card(models, "biden.jpg"), (_live(models, "astronaut.jpg"),), False),
        FaceCase("obama-with-collins-card", _card(models, "astronaut.jpg"), (_live(models, "obama2.jpg"),), False),
    ]


def bad_frames(models: FaceModels) -> dict[QualityProblem, BgrImage]:
    """One frame per quality-gate refusal, each made from a good frame with OpenCV."""
    good = _live(models, "obama2.jpg")
    return {
        QualityProblem.NO_FACE: empty_scene(models, load("obama.jpg")),
        QualityProblem.SEVERAL_FACES: side_by_side(good, _live(models, "biden.jpg")),
        QualityProblem.FACE_CUT_OFF: live_frame(models, load("obama2.jpg"), shift_x=0.45),
        QualityProblem.FACE_TOO_SMALL: live_frame(models, load("obama2.jpg"), face_px=90),
        QualityProblem.TOO_DARK: darkened(good),
        QualityProblem.TOO_BRIGHT: glared(good),
        QualityProblem.BLURRED: blurred(good),
    }


@dataclass(frozen=True)
class WrittenCase:
    """A face case on disk: the camera source to play and the card photo file."""

    name: str
    genuine: bool
    camera: ImageSequenceSource
    card_photo: Path


def write_camera_source(folder: Path, frames: tuple[BgrImage, ...] | list[BgrImage]) -> ImageSequenceSource:
    """The frames as an image sequence the OpenCV camera plays in a loop."""
    return ImageSequenceSource(write_sequence(folder, list(frames)))


def write_case(folder: Path, case: FaceCase) -> WrittenCase:
    """`folder/live/frame_NNN.png` for the camera and `folder/card.jpg` for the virtual card's photo."""
    camera = write_camera_source(folder / "live", case.live)
    card = folder / "card.jpg"
    card.write_bytes(case.card_photo)
    return WrittenCase(case.name, case.genuine, camera, card)


def write_all_cases(folder: Path, models: FaceModels) -> list[WrittenCase]:
    """Every genuine and impostor case, each in its own sub-folder, for the demo's synthetic voters."""
    return [write_case(folder / case.name, case) for case in genuine_cases(models) + impostor_cases(models)]
