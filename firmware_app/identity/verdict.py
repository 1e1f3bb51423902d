"""The face check's verdict, a value the check gives and the flow holds (the check never imports the flow)."""

from __future__ import annotations

import enum


class FaceVerdict(enum.StrEnum):
    """The face check's advice; the operator decides, and confirming a NO_MATCH needs the override."""

    PENDING = "pending"
    MATCH = "match"
    NO_MATCH = "no_match"
    UNAVAILABLE = "unavailable"


class FaceProblem(enum.StrEnum):
    """Why there is no score: the check's typed reason, which the flow carries and `flow.texts` renders."""

    NO_PHOTO = "no_photo"
    NO_CAMERA = "no_camera"
    CAMERA_NOT_WORKING = "camera_not_working"
    CHECK_FAULT = "check_fault"
    CARD_PHOTO_UNREADABLE = "card_photo_unreadable"
    CARD_PHOTO_NO_FACE = "card_photo_no_face"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_CUT_OFF = "face_cut_off"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRED = "blurred"
