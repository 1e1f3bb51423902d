"""Sign-in at the screen: PINs checked against their scrypt hashes, lock-out after failures, one session at a time."""

from __future__ import annotations

import enum
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from provisioning.pins import PinHash, Role

MAX_FAILURES = 5
"""Wrong PINs in a row (per role) before that role is locked out."""
LOCKOUT_S = 300.0
"""How long a locked-out role cannot sign in."""


class SignInProblem(enum.StrEnum):
    WRONG_PIN = "wrong_pin"
    LOCKED_OUT = "locked_out"
    NO_PIN_SET = "no_pin_set"


@dataclass(frozen=True)
class SignedIn:
    token: str
    role: Role


@dataclass(frozen=True)
class Refused:
    problem: SignInProblem
    failures: int = 0
    locked_for_s: float = 0.0
    """Seconds left of a lock-out (LOCKED_OUT, or the failure that started one)."""


@dataclass
class _Attempts:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class _Session:
    token: str
    role: Role
    last_action: float


class Officials:
    """Thread-safe. The one session (a new sign-in ends the previous one) expires `lock_after_s` after its last
    action; the head of branch's PIN is also checked alone, per action, for what needs two officials."""

    def __init__(self, pins: dict[Role, PinHash], lock_after_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._pins = pins
        self._lock_after_s = lock_after_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._attempts = {role: _Attempts() for role in Role}
        self._session: _Session | None = None

    @property
    def lock_after_s(self) -> float:
        return self._lock_after_s

    def verify(self, role: Role, pin: str) -> Refused | None:
        """Check one official's PIN (slow: scrypt), counting failures towards that role's lock-out."""
        with self._lock:
            attempts = self._attempts[role]
            left = attempts.locked_until - self._now()
            if left > 0:
                return Refused(SignInProblem.LOCKED_OUT, attempts.failures, left)
        stored = self._pins.get(role)
        if stored is None:
            return Refused(SignInProblem.NO_PIN_SET)
        good = stored.matches(pin)
        with self._lock:
            if good:
                attempts.failures = 0
                return None
            attempts.failures += 1
            if attempts.failures >= MAX_FAILURES:
                attempts.locked_until = self._now() + LOCKOUT_S
                return Refused(SignInProblem.LOCKED_OUT, attempts.failures, LOCKOUT_S)
            return Refused(SignInProblem.WRONG_PIN, attempts.failures)

    def sign_in(self, role: Role, pin: str) -> SignedIn | Refused:
        refused = self.verify(role, pin)
        if refused is not None:
            return refused
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._session = _Session(token, role, self._now())
        return SignedIn(token, role)

    def session(self, token: str | None, *, action: bool = False) -> Role | None:
        """Who holds this token, if it is the current, unexpired session; an action restarts the idle time."""
        with self._lock:
            session = self._session
            if token is None or session is None or not secrets.compare_digest(token, session.token):
                return None
            now = self._now()
            if now - session.last_action > self._lock_after_s:
                self._session = None
                return None
            if action:
                session.last_action = now
            return session.role

    def sign_out(self, token: str | None) -> Role | None:
        with self._lock:
            session = self._session
            if token is None or session is None or not secrets.compare_digest(token, session.token):
                return None
            self._session = None
            return session.role
