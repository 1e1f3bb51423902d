"""End to end on real files: the OpenCV camera plays a harness case and the matcher scores its frames."""

from __future__ import annotations

from pathlib import Path

from drivers.camera.capture import CaptureConfig
from firmware_app.identity.face import FaceMatch, FaceMatcher, MatchVerdict, QualityProblem, QualityRefusal
from hal.backends import open_camera
from hal.camera import Frame
from harness.camera.frames import BgrImage
from harness.camera.voters import FaceCase, write_all_cases, write_camera_source, write_case

SETTLE_S = 10.0


def _first_frame(source_config: CaptureConfig) -> Frame:
    camera = open_camera(source_config)
    camera.start()
    try:
        frame = camera.next_frame(after=0, timeout_s=SETTLE_S)
    finally:
        camera.close()
    assert isinstance(frame, Frame), f"camera gave no frame: {frame}"
    return frame


def test_a_played_genuine_case_matches_and_an_impostor_does_not(
    tmp_path: Path, matcher: FaceMatcher, genuine: list[FaceCase], impostors: list[FaceCase]
) -> None:
    for case, verdict in ((genuine[0], MatchVerdict.MATCH), (impostors[0], MatchVerdict.NO_MATCH)):
        written = write_case(tmp_path / case.name, case)
        frame = _first_frame(CaptureConfig(source=written.camera))
        result = matcher.check(frame.pixels, written.card_photo.read_bytes())
        assert isinstance(result, FaceMatch), f"{case.name}: {result}"
        assert result.verdict is verdict, f"{case.name}: distance {result.distance:.3f}"


def test_a_played_bad_frame_is_refused_by_the_gate(tmp_path: Path, matcher: FaceMatcher, bad: dict[QualityProblem, BgrImage]) -> None:
    source = write_camera_source(tmp_path / "dark", [bad[QualityProblem.TOO_DARK]])
    frame = _first_frame(CaptureConfig(source=source))
    result = matcher.check_live(frame.pixels)
    assert isinstance(result, QualityRefusal)
    assert result.problem is QualityProblem.TOO_DARK


def test_every_case_is_written_for_the_demo(tmp_path: Path, matcher: FaceMatcher) -> None:
    written = write_all_cases(tmp_path, matcher.models)
    assert sorted(case.genuine for case in written) == [False, False, False, True, True, True]
    for case in written:
        assert case.card_photo.read_bytes()[:2] == b"\xff\xd8", f"{case.name}: card photo is not a JPEG"
        assert isinstance(_first_frame(CaptureConfig(source=case.camera)), Frame)
