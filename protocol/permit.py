"""Offline-operation permits (issue 15): the district's permit, its one-time activations and its end, judged purely.

A permit lets the terminals it names issue OFFLINE slips within its window and up to its count. It does nothing
until activated, by one of a small number of one-time activations: either a code the district reads out by phone
(`activation_code`, checked on the terminal without the network under the key sealed to it in the permit) or a
signed broadcast (`PermitActivation`). Activation `n` is the same activation whichever path brings it, so a code
read out and a broadcast of the same number cannot both be used. The district ends a permit with `PermitEnd`.
Every judgement here takes what the terminal knows (`PermitLedger`: its journal's record of this permit) and the
time, and returns a typed refusal or what was accepted; nothing here reads a clock, a file or the network.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stdnum import verhoeff

from protocol.messages import ID_PATTERN, NAME_PATTERN
from protocol.national_code import to_ascii_digits

MAX_PERMIT_TERMINALS = 16
MAX_OFFLINE_SLIPS = 9_999
"""Per terminal and permit; the offline code has four digits of sequence (protocol.offline_code)."""
MAX_ACTIVATIONS = 9
MAX_WINDOW = timedelta(hours=20)
"""A polling day runs from 07:00 up to 02:00 after extensions: 19 hours."""
MAX_BROADCAST_LIFE = timedelta(minutes=30)
"""A broadcast activation is valid this long at most after it was issued, so an old retained one is dead."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the terminal's clock a broadcast's issue time may lie."""
CODE_BODY_DIGITS = 8
CODE_LENGTH = CODE_BODY_DIGITS + 1
MAX_CODE_ATTEMPTS = 5
"""Wrong codes a terminal takes for one permit before it locks the permit's code path (the district must then
activate by broadcast or issue a new permit). With at most MAX_ACTIVATIONS live codes among 10^8, a guess succeeds
with probability at most 9 / 10^8, and all the attempts before the lock-out together at most 4.5 × 10^-7."""
SECRET_BYTES = 32
_CODE_LABEL = b"vk/v1 permit activation\x00"


def _name() -> dict[str, object]:
    return {"pattern": NAME_PATTERN}


class ActivationPath(enum.StrEnum):
    PHONE_CODE = "phone_code"
    BROADCAST = "broadcast"


@dataclass(frozen=True)
class SealedPermitSecrets:
    """The permit's secrets (PermitSecrets) sealed (JWE, ECDH-ES X25519) to one terminal's permit key."""

    terminal: str = field(metadata=_name())
    sealed: str = field(metadata={"max_length": 1024})


@dataclass(frozen=True)
class Permit:
    """District-signed: the terminals of one branch may issue up to `max_slips` OFFLINE slips each within
    [not_before, not_after), once activated by one of `activations` one-time activations over `paths`."""

    permit_id: str = field(metadata={"pattern": ID_PATTERN})
    district: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    terminals: tuple[str, ...] = field(metadata={"pattern": NAME_PATTERN, "min_items": 1,
                                                 "max_items": MAX_PERMIT_TERMINALS})
    not_before: datetime
    not_after: datetime
    max_slips: int = field(metadata={"min": 1, "max": MAX_OFFLINE_SLIPS})
    activations: int = field(metadata={"min": 1, "max": MAX_ACTIVATIONS})
    paths: tuple[ActivationPath, ...] = field(metadata={"min_items": 1, "max_items": len(ActivationPath)})
    secrets: tuple[SealedPermitSecrets, ...] = field(metadata={"min_items": 1, "max_items": MAX_PERMIT_TERMINALS})
    issued_at: datetime

    def slot_of(self, terminal: str) -> int | None:
        """The terminal's place in the permit, from 1 (it appears in its offline codes); None if not named."""
        return self.terminals.index(terminal) + 1 if terminal in self.terminals else None


@dataclass(frozen=True)
class PermitActivation:
    """District-signed broadcast: activation `activation` of the permit, valid until `valid_until`."""

    permit_id: str = field(metadata={"pattern": ID_PATTERN})
    district: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    activation: int = field(metadata={"min": 1, "max": MAX_ACTIVATIONS})
    issued_at: datetime
    valid_until: datetime


@dataclass(frozen=True)
class PermitEnd:
    """District-signed broadcast: the permit ends at `ended_at`; no offline slip under it after that."""

    permit_id: str = field(metadata={"pattern": ID_PATTERN})
    district: str = field(metadata=_name())
    branch: str = field(metadata=_name())
    ended_at: datetime
    issued_at: datetime


@dataclass(frozen=True)
class PermitSecrets:
    """What only the district and the permit's terminals know: the key of the phone codes and of the offline
    codes' tags, and the day's snapshot key (protocol.voted_snapshot.voter_tag)."""

    activation_key: bytes
    snapshot_key: bytes

    def __repr__(self) -> str:
        return "PermitSecrets(<redacted>)"

    def to_bytes(self) -> bytes:
        return self.activation_key + self.snapshot_key

    @classmethod
    def from_bytes(cls, data: bytes) -> PermitSecrets | None:
        if len(data) != 2 * SECRET_BYTES:
            return None
        return cls(data[:SECRET_BYTES], data[SECRET_BYTES:])


@dataclass(frozen=True)
class TerminalIdentity:
    terminal: str
    branch: str
    district: str


@dataclass(frozen=True)
class PermitLedger:
    """What the terminal's journal holds of one permit: activations used, wrong codes, slips issued, its end."""

    used_activations: frozenset[int] = frozenset()
    failed_codes: int = 0
    slips_issued: int = 0
    ended_at: datetime | None = None
    active: int | None = None
    """The activation the terminal is running under now; None when not offline under this permit."""


class PermitRefusal(enum.StrEnum):
    """Why a permit, an activation, an end or an offline slip was refused; each is audited by the terminal."""

    FOREIGN_DISTRICT = "foreign_district"
    FOREIGN_BRANCH = "foreign_branch"
    FOREIGN_TERMINAL = "foreign_terminal"
    OTHER_PERMIT = "other_permit"
    MALFORMED = "malformed"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    ENDED = "ended"
    PATH_NOT_ALLOWED = "path_not_allowed"
    NOT_A_CODE = "not_a_code"
    """Not nine digits with a valid check digit: a typo, not counted as a guess."""
    BAD_CODE = "bad_code"
    REUSED_CODE = "reused_code"
    LOCKED_OUT = "locked_out"
    STALE_ACTIVATION = "stale_activation"
    NOT_ACTIVATED = "not_activated"
    OVER_LIMIT = "over_limit"


@dataclass(frozen=True)
class Activated:
    """Accepted: the terminal may go offline under activation `activation` of the permit."""

    activation: int
    path: ActivationPath


def activation_code(activation_key: bytes, permit_id: str, activation: int) -> str:
    """Activation `activation`'s phone code: HMAC-SHA256 over the permit id and the number, its first 64 bits
    taken modulo 10^8 (bias below 10^-11) as eight digits, then a Verhoeff check digit: nine digits read as
    three groups of three."""
    message = _CODE_LABEL + permit_id.encode("ascii") + b"\x00" + str(activation).encode("ascii")
    mac = hmac.new(activation_key, message, hashlib.sha256).digest()
    body = f"{int.from_bytes(mac[:8], 'big') % 10**CODE_BODY_DIGITS:0{CODE_BODY_DIGITS}d}"
    return body + verhoeff.calc_check_digit(body)


def normal_code(typed: str) -> str | None:
    """What the operator typed as a phone code, in ASCII digits without spaces or hyphens, if it is nine digits
    with a valid check digit; None otherwise."""
    digits = to_ascii_digits(typed).replace(" ", "").replace("-", "")
    if len(digits) != CODE_LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    return digits if verhoeff.is_valid(digits) else None


def judge_permit(permit: Permit, me: TerminalIdentity) -> PermitRefusal | None:
    """Whether a verified permit is this terminal's and well formed (it may be received long before its window)."""
    if permit.district != me.district:
        return PermitRefusal.FOREIGN_DISTRICT
    if permit.branch != me.branch:
        return PermitRefusal.FOREIGN_BRANCH
    if me.terminal not in permit.terminals:
        return PermitRefusal.FOREIGN_TERMINAL
    sealed_for = [entry.terminal for entry in permit.secrets]
    if (len(set(permit.terminals)) != len(permit.terminals) or sorted(sealed_for) != sorted(permit.terminals)
            or len(set(permit.paths)) != len(permit.paths)):
        return PermitRefusal.MALFORMED
    if not permit.not_before < permit.not_after <= permit.not_before + MAX_WINDOW:
        return PermitRefusal.MALFORMED
    return None


def judge_window(permit: Permit, ledger: PermitLedger, now: datetime) -> PermitRefusal | None:
    """Whether the permit is in force at `now`: inside its window and not ended."""
    if ledger.ended_at is not None and now >= ledger.ended_at:
        return PermitRefusal.ENDED
    if now < permit.not_before:
        return PermitRefusal.NOT_YET_VALID
    if now >= permit.not_after:
        return PermitRefusal.EXPIRED
    return None


def judge_code(permit: Permit, secrets: PermitSecrets, typed: str, ledger: PermitLedger, me: TerminalIdentity,
               now: datetime) -> Activated | PermitRefusal:
    """A phone code typed by the head of branch. BAD_CODE counts towards the lock-out (the caller journals it
    in `failed_codes`); NOT_A_CODE (a typo the check digit caught) does not."""
    refused = _before_activation(permit, ledger, me, now, ActivationPath.PHONE_CODE)
    if refused is not None:
        return refused
    if ledger.failed_codes >= MAX_CODE_ATTEMPTS:
        return PermitRefusal.LOCKED_OUT
    code = normal_code(typed)
    if code is None:
        return PermitRefusal.NOT_A_CODE
    matches = [number for number in range(1, permit.activations + 1)
               if hmac.compare_digest(activation_code(secrets.activation_key, permit.permit_id, number), code)]
    fresh = [number for number in matches if number not in ledger.used_activations]
    if fresh:
        return Activated(fresh[0], ActivationPath.PHONE_CODE)
    return PermitRefusal.REUSED_CODE if matches else PermitRefusal.BAD_CODE


def judge_broadcast_activation(permit: Permit, activation: PermitActivation, ledger: PermitLedger,
                               me: TerminalIdentity, now: datetime) -> Activated | PermitRefusal:
    """A verified broadcast activation for a permit the terminal holds."""
    if activation.permit_id != permit.permit_id:
        return PermitRefusal.OTHER_PERMIT
    if (activation.district, activation.branch) != (permit.district, permit.branch):
        return PermitRefusal.MALFORMED
    refused = _before_activation(permit, ledger, me, now, ActivationPath.BROADCAST)
    if refused is not None:
        return refused
    if activation.activation > permit.activations:
        return PermitRefusal.MALFORMED
    if not activation.issued_at < activation.valid_until <= activation.issued_at + MAX_BROADCAST_LIFE:
        return PermitRefusal.MALFORMED
    if not activation.issued_at - CLOCK_SKEW <= now < activation.valid_until:
        return PermitRefusal.STALE_ACTIVATION
    if activation.activation in ledger.used_activations:
        return PermitRefusal.REUSED_CODE
    return Activated(activation.activation, ActivationPath.BROADCAST)


def judge_end(permit: Permit, end: PermitEnd) -> PermitRefusal | None:
    """A verified end-of-permit broadcast: it must name this permit, its district and branch. An end is accepted
    whenever it comes (even before the window or after it): ending can only take rights away."""
    if end.permit_id != permit.permit_id:
        return PermitRefusal.OTHER_PERMIT
    if (end.district, end.branch) != (permit.district, permit.branch):
        return PermitRefusal.MALFORMED
    return None


def judge_offline_slip(permit: Permit, ledger: PermitLedger, me: TerminalIdentity,
                       now: datetime) -> PermitRefusal | None:
    """Whether one more OFFLINE slip may be issued now under the permit: held, activated, in force, under limit."""
    refused = judge_permit(permit, me) or judge_window(permit, ledger, now)
    if refused is not None:
        return refused
    if ledger.active is None or ledger.active not in ledger.used_activations:
        return PermitRefusal.NOT_ACTIVATED
    if ledger.slips_issued >= permit.max_slips:
        return PermitRefusal.OVER_LIMIT
    return None


def _before_activation(permit: Permit, ledger: PermitLedger, me: TerminalIdentity, now: datetime,
                       path: ActivationPath) -> PermitRefusal | None:
    refused = judge_permit(permit, me) or judge_window(permit, ledger, now)
    if refused is not None:
        return refused
    if path not in permit.paths:
        return PermitRefusal.PATH_NOT_ALLOWED
    if ledger.slips_issued >= permit.max_slips:
        return PermitRefusal.OVER_LIMIT
    return None
