"""The face check's verdict, a value the check gives and the flow holds (the check never imports the flow)."""

from __future__ import annotations

import enum


class FaceVerdict(enum.StrEnum):
    """The face check's advice; the operator decides, and confirming a NO_MATCH needs the override."""

    PENDING = "pending"
    MATCH = "match"
    NO_MATCH = "no_match"
    UNAVAILABLE = "unavailable"
