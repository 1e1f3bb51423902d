"""Bounds on the times in a verified center message: within the election day's reach, or the message is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from firmware_app.runtime.settings import RuntimeSettings
from protocol.messages import Answer, Extension, ReserveAnswer

DAY_MARGIN = timedelta(days=1)
"""How far before the set opening a center time may lie (a first vote before the opening is impossible;
a day of margin covers a district's clock and a test run the night before)."""


def answer_time_problem(answer: Answer, settings: RuntimeSettings, now: datetime) -> str | None:
    """Why the times in a verified answer cannot be right, or None. The center's time may differ from ours
    (the opening check judges that); a duplicate's first vote must lie between the opening and the answer."""
    earliest = settings.opens_at - DAY_MARGIN
    latest = settings.closes_at + settings.longest_extension + DAY_MARGIN
    center_time = answer.header.center_time
    if not earliest <= center_time <= latest:
        return "center time outside the election day"
    body = answer.body
    if isinstance(body, ReserveAnswer) and body.first_at is not None and not (
        earliest <= body.first_at <= max(center_time, now) + settings.clock_tolerance
    ):
        return "first vote time outside the election day"
    return None


def extension_problem(extension: Extension, settings: RuntimeSettings, now: datetime) -> str | None:
    """Why a verified extension is not addressed to us today, or None: another district, or issued before the
    day or in our future. Whether the new closing time may stand is the flow's decision (`flow.anywhere`)."""
    if extension.district != settings.identity.district:
        return "another district"
    return issued_problem(extension.issued_at, settings, now)


def issued_problem(issued_at: datetime, settings: RuntimeSettings, now: datetime) -> str | None:
    """Why a district broadcast's issue time is not of today, or None: before the day, or in our future."""
    if not settings.opens_at - DAY_MARGIN <= issued_at <= now + settings.clock_tolerance:
        return "issued outside the election day or in the future"
    return None
