"""Times in a verified center message are bounded by the election day before anything uses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.runtime.bounds import answer_time_problem, extension_problem
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from protocol.messages import Answer, AnswerHeader, Extension, RequestKind, ReserveAnswer, ReserveOutcome
from protocol.seal import generate_sealing_key, generate_signing_key, public_part

OPENS = datetime(2026, 6, 12, 3, 30, tzinfo=UTC)
SET_CLOSE = OPENS + timedelta(hours=11)
NOW = OPENS + timedelta(hours=3)
_CENTER = generate_signing_key()
SETTINGS = RuntimeSettings(
    TerminalIdentity(terminal="T-0001", branch="B-0001", district="D01"), False, public_part(_CENTER), public_part(generate_sealing_key()),
    generate_signing_key(), b"k" * 32, "0", "0" * 64, "0" * 64, OPENS, SET_CLOSE, {},
)


def _duplicate(first_at: datetime, center_time: datetime = NOW) -> Answer:
    body = ReserveAnswer(ReserveOutcome.DUPLICATE, None, None, "B-0002", first_at, None)
    return Answer(RequestKind.RESERVE, AnswerHeader("r" * 32, "t" * 32, "T-0001", center_time), body)


def _extension(closes_at: datetime, issued_at: datetime = NOW, district: str = "D01") -> Extension:
    return Extension(district, closes_at, issued_at)


def test_a_duplicate_earlier_today_is_within_bounds() -> None:
    assert answer_time_problem(_duplicate(NOW - timedelta(hours=2)), SETTINGS, NOW) is None


@pytest.mark.parametrize(("first_at", "center_time", "problem"), [
    (datetime(2099, 1, 1, tzinfo=UTC), NOW, "first vote time outside the election day"),
    (OPENS - timedelta(days=2), NOW, "first vote time outside the election day"),
    (NOW + timedelta(hours=1), NOW, "first vote time outside the election day"),
    (NOW, datetime(2099, 1, 1, tzinfo=UTC), "center time outside the election day"),
    (NOW, OPENS - timedelta(days=3), "center time outside the election day"),
])
def test_times_outside_the_election_day_are_refused(first_at: datetime, center_time: datetime, problem: str) -> None:
    assert answer_time_problem(_duplicate(first_at, center_time), SETTINGS, NOW) == problem


def test_an_extension_for_this_district_issued_today_is_the_flows_to_judge() -> None:
    assert extension_problem(_extension(SET_CLOSE + timedelta(hours=2)), SETTINGS, NOW) is None
    assert extension_problem(_extension(SET_CLOSE), SETTINGS, NOW) is None, "the flow judges the closing time itself"


@pytest.mark.parametrize(("extension", "problem"), [
    (_extension(SET_CLOSE + timedelta(hours=1), district="D02"), "another district"),
    (_extension(SET_CLOSE + timedelta(hours=1), issued_at=NOW + timedelta(minutes=10)),
     "issued outside the election day or in the future"),
    (_extension(SET_CLOSE + timedelta(hours=1), issued_at=OPENS - timedelta(days=2)),
     "issued outside the election day or in the future"),
])
def test_an_extension_not_addressed_to_us_today_is_refused(extension: Extension, problem: str) -> None:
    assert extension_problem(extension, SETTINGS, NOW) == problem
