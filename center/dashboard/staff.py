"""District staff who may sign in to the dashboard: passwords kept only as scrypt hashes, lock-out, sessions."""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from protocol.messages import NAME_PATTERN

STAFF_FILE = "staff.json"
FORMAT = 1
PASSWORD_LENGTH = (10, 128)
MAX_FAILURES = 5
LOCKOUT_S = 300.0
IDLE_S = 1800.0
"""A session ends this long after its last request."""
MAX_SESSIONS = 64


@dataclass(frozen=True)
class KdfParams:
    """scrypt n=2^15, r=8, p=1: 32 MiB and about 0.1 s a guess here; stored with each hash."""

    n: int = 2**15
    r: int = 8
    p: int = 1
    length: int = 32

    @property
    def maxmem(self) -> int:
        return 2 * 128 * self.n * self.r


@dataclass(frozen=True)
class PasswordHash:
    salt: bytes
    digest: bytes
    params: KdfParams

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_derive(password, self.salt, self.params), self.digest)


class StaffProblem(enum.StrEnum):
    BAD_ID = "bad_id"
    BAD_PASSWORD = "bad_password"
    WRONG = "wrong"
    """Unknown account or wrong password: the two are not told apart."""
    LOCKED_OUT = "locked_out"


def hash_password(password: str, params: KdfParams | None = None) -> PasswordHash:
    chosen = params or KdfParams()
    salt = secrets.token_bytes(16)
    return PasswordHash(salt, _derive(password, salt, chosen), chosen)


def _derive(password: str, salt: bytes, params: KdfParams) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "replace"), salt=salt, n=params.n, r=params.r, p=params.p,
                          maxmem=params.maxmem, dklen=params.length)


def valid_id(staff: str) -> bool:
    """A staff account is an id (letters, digits, '-'), never a person's name in free text."""
    return re.fullmatch(NAME_PATTERN, staff, flags=re.ASCII) is not None


def load_staff(path: Path) -> dict[str, PasswordHash]:
    """The accounts in the file; a missing file is nobody. A malformed file is an error."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("staff"), dict):
        raise ValueError(f"{path}: not a staff file of format {FORMAT}")
    found = {}
    for staff, entry in data["staff"].items():
        if not valid_id(staff):
            raise ValueError(f"{path}: not a staff id: {staff!r}")
        params = KdfParams(int(entry["n"]), int(entry["r"]), int(entry["p"]), int(entry["length"]))
        found[staff] = PasswordHash(bytes.fromhex(entry["salt"]), bytes.fromhex(entry["hash"]), params)
    return found


def set_password(path: Path, staff: str, password: str, params: KdfParams | None = None) -> StaffProblem | None:
    """Hash and store one account's password (the file readable only by its owner), keeping the others."""
    if not valid_id(staff):
        return StaffProblem.BAD_ID
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        return StaffProblem.BAD_PASSWORD
    accounts = load_staff(path)
    accounts[staff] = hash_password(password, params)
    rows = {name: {"salt": h.salt.hex(), "hash": h.digest.hex(), "n": h.params.n, "r": h.params.r,
                   "p": h.params.p, "length": h.params.length} for name, h in sorted(accounts.items())}
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_suffix(".new")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"format": FORMAT, "staff": rows}, file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    os.replace(fresh, path)
    return None


@dataclass(frozen=True)
class Session:
    token: str
    staff: str
    csrf: str
    """Sent back by the page in a header with every POST, besides the Origin check."""


@dataclass(frozen=True)
class SignInRefused:
    problem: StaffProblem
    locked_for_s: float = 0.0


@dataclass
class _Attempts:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class _Live:
    session: Session
    last: float


class StaffDesk:
    """Thread-safe sign-in for several staff at once. An unknown id costs the same scrypt as a wrong password;
    an account is locked out for LOCKOUT_S after MAX_FAILURES wrong passwords in a row."""

    def __init__(self, accounts: dict[str, PasswordHash], monotonic: Callable[[], float] = time.monotonic,
                 idle_s: float = IDLE_S) -> None:
        self._accounts = accounts
        self._now = monotonic
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._attempts: dict[str, _Attempts] = {}
        self._sessions: dict[str, _Live] = {}
        self._decoy = hash_password(secrets.token_hex(16), next(iter(accounts.values())).params
                                    if accounts else None)

    def sign_in(self, staff: str, password: str) -> Session | SignInRefused:
        if not valid_id(staff) or len(password) > PASSWORD_LENGTH[1]:
            return SignInRefused(StaffProblem.WRONG)
        known = self._accounts.get(staff)
        with self._lock:
            attempts = self._attempts.setdefault(staff, _Attempts()) if known is not None else _Attempts()
            left = attempts.locked_until - self._now()
            if left > 0:
                return SignInRefused(StaffProblem.LOCKED_OUT, left)
        good = (known or self._decoy).matches(password) and known is not None
        with self._lock:
            if not good:
                attempts.failures += 1
                if attempts.failures >= MAX_FAILURES:
                    attempts.failures = 0
                    attempts.locked_until = self._now() + LOCKOUT_S
                    return SignInRefused(StaffProblem.LOCKED_OUT, LOCKOUT_S)
                return SignInRefused(StaffProblem.WRONG)
            attempts.failures = 0
            session = Session(secrets.token_urlsafe(32), staff, secrets.token_urlsafe(24))
            self._sessions[session.token] = _Live(session, self._now())
            while len(self._sessions) > MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda live: live.last)
                del self._sessions[oldest.session.token]
            return session

    def session(self, token: str | None) -> Session | None:
        """The live session of this token (its idle time restarts), or None."""
        if token is None:
            return None
        with self._lock:
            live = self._sessions.get(token)
            if live is None:
                return None
            now = self._now()
            if now - live.last > self._idle_s:
                del self._sessions[token]
                return None
            live.last = now
            return live.session

    def sign_out(self, token: str | None) -> Session | None:
        with self._lock:
            live = self._sessions.pop(token, None) if token is not None else None
            return None if live is None else live.session
