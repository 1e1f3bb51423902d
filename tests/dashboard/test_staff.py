"""Staff accounts without a server: scrypt hashes only, lock-out, unknown ids, session idle time, and the view."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from center.dashboard.staff import (
    LOCKOUT_S,
    MAX_FAILURES,
    KdfParams,
    Session,
    SignInRefused,
    StaffDesk,
    StaffProblem,
    load_staff,
    set_password,
)

FAST = KdfParams(n=2**4)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_file_keeps_only_salted_hashes_readable_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    assert set_password(path, "staff-1", "a long enough secret", FAST) is None
    assert set_password(path, "staff-2", "a long enough secret", FAST) is None
    assert set_password(path, "Ali Rezaei", "a long enough secret", FAST) is StaffProblem.BAD_ID
    assert set_password(path, "staff-3", "short", FAST) is StaffProblem.BAD_PASSWORD
    text = path.read_text()
    assert "a long enough secret" not in text
    entries = json.loads(text)["staff"]
    assert entries["staff-1"]["salt"] != entries["staff-2"]["salt"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = load_staff(path)
    assert accounts["staff-1"].matches("a long enough secret") and not accounts["staff-1"].matches("guess")


def test_failures_lock_one_account_out_for_a_while_and_unknown_ids_look_wrong(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    set_password(path, "staff-1", "a long enough secret", FAST)
    clock = Monotonic()
    desk = StaffDesk(load_staff(path), clock)
    for _ in range(MAX_FAILURES - 1):
        assert desk.sign_in("staff-1", "wrong") == SignInRefused(StaffProblem.WRONG)
    assert desk.sign_in("nobody", "wrong") == SignInRefused(StaffProblem.WRONG)
    refused = desk.sign_in("staff-1", "wrong")
    assert isinstance(refused, SignInRefused) and refused.problem is StaffProblem.LOCKED_OUT
    blocked = desk.sign_in("staff-1", "a long enough secret")
    assert isinstance(blocked, SignInRefused) and blocked.problem is StaffProblem.LOCKED_OUT
    clock.now += LOCKOUT_S + 1
    assert isinstance(desk.sign_in("staff-1", "a long enough secret"), Session)


def test_a_session_ends_after_its_idle_time_or_its_sign_out(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    set_password(path, "staff-1", "a long enough secret", FAST)
    clock = Monotonic()
    desk = StaffDesk(load_staff(path), clock, idle_s=60)
    first = desk.sign_in("staff-1", "a long enough secret")
    second = desk.sign_in("staff-1", "a long enough secret")
    assert isinstance(first, Session) and isinstance(second, Session) and first.token != second.token
    clock.now += 50
    assert desk.session(first.token) == first
    clock.now += 61
    assert desk.session(first.token) is None and desk.session(second.token) is None
    third = desk.sign_in("staff-1", "a long enough secret")
    assert isinstance(third, Session) and desk.sign_out(third.token) == third and desk.session(third.token) is None
