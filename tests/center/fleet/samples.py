"""Telemetry as a terminal sends it, signed with its own key by the protocol's functions, for the fleet tests."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from joserfc import jws
from joserfc.jwk import OKPKey

from center.enrolled import EnrolledTerminal
from protocol.messages import CloseCounts
from protocol.seal import SIGNATURE_ALG, generate_signing_key, public_part, sign_telemetry
from protocol.telemetry import ComponentHealth, HealthReport, LinkState, OpenAlarm, PollsState, TerminalStatus
from tests.center.as_terminal import ELECTION_ID

T = TypeVar("T")
APPROVED = "a" * 64
BOOT = "0123456789abcdef0123456789abcdef"


@functools.cache
def key_of(terminal: str) -> OKPKey:
    """Each test terminal's own signing key."""
    return generate_signing_key()


def enrolment(terminal: str, branch: str, district: str) -> EnrolledTerminal:
    return EnrolledTerminal(terminal, branch, district, ELECTION_ID, public_part(key_of(terminal)))


@dataclass
class Terminal:
    """One test terminal's telemetry: its births and report sequence numbers, as the terminal would keep them."""

    terminal: str
    branch: str
    district: str
    birth: int = 1
    seq: int = 0
    issued: int = 0
    duplicates: int = 0
    at: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def status(self, state: LinkState = LinkState.ONLINE, birth: int | None = None) -> TerminalStatus:
        return TerminalStatus(self.terminal, self.branch, self.district, state,
                              self.birth if birth is None else birth, self.at())

    def health(self, *, printer: str = "ready", printer_ok: bool = True, reader_ok: bool = True,
               camera_ok: bool = True, clock_offset_ms: int | None = 40, backlog: int = 0,
               polls: PollsState = PollsState.OPEN, tamper: int = 0, software_hash: str = APPROVED,
               throttled: bool | None = False, seq: int | None = None) -> HealthReport:
        if seq is None:
            self.seq += 1
        components = (ComponentHealth("printer", printer_ok, printer),
                      ComponentHealth("card_reader", reader_ok, "no_card" if reader_ok else "no_reader"),
                      ComponentHealth("camera", camera_ok, "ready" if camera_ok else "not_found"))
        alarms = (OpenAlarm("tamper", tamper),) if tamper else ()
        return HealthReport(
            self.terminal, self.branch, self.district, self.birth, self.seq if seq is None else seq, self.at(), BOOT,
            600, "0.1.0", software_hash, "b" * 64, polls, False, components, 41, clock_offset_ms, backlog, 0,
            10_240, 52_500, throttled, CloseCounts(self.issued, 0, 0, self.duplicates, 0, 0, 0, 0), alarms)

    def signed(self, message: TerminalStatus | HealthReport, key: OKPKey | None = None) -> bytes:
        return sign_telemetry(message, key or key_of(self.terminal))

    def enrolment(self) -> EnrolledTerminal:
        return enrolment(self.terminal, self.branch, self.district)


def signed_raw(payload: bytes, typ: str, key: OKPKey) -> bytes:
    """A compact JWS of this type over any payload, signed for real: a genuine signature on a bad message."""
    header = {"alg": SIGNATURE_ALG, "typ": typ, "kid": key.thumbprint()}
    return jws.serialize_compact(header, payload, key, algorithms=[SIGNATURE_ALG]).encode("ascii")


class Clock:
    """The center's clock for a test: the real time plus an offset the test moves (offline after 90 s)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


def eventually(probe: Callable[[], T | None], failure: Callable[[], str], timeout: float = 20.0) -> T:
    """Wait until `probe` gives something (no time is asserted: the deadline only ends a test that hangs)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        time.sleep(0.05)
