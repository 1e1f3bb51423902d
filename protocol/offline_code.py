"""The OFFLINE slip's own code, disjoint from the center's inquiry codes, and the terminal-signed issue record.

An offline code is eleven digits: the terminal's slot in its permit (2), its offline sequence under that permit
(4), a tag (4) and a Verhoeff check digit (1). The center's inquiry codes are nine digits and national codes ten,
so no offline code can ever be read as either, whatever its digits. The tag, an HMAC under the permit's
activation key over the permit, terminal and sequence, makes a slip's code unguessable to anyone without the
permit's secrets: a forged slip is caught at reconciliation, where every code must match a signed issue record.
The code is unique within its permit (slot and sequence); the center keys offline issues by (permit, code).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from stdnum import verhoeff

from protocol.messages import ID_PATTERN, NAME_PATTERN, OFFLINE_CODE_PATTERN, DocumentKind
from protocol.permit import MAX_ACTIVATIONS, MAX_OFFLINE_SLIPS, MAX_PERMIT_TERMINALS

SLOT_DIGITS = 2
SEQUENCE_DIGITS = 4
TAG_DIGITS = 4
LENGTH = SLOT_DIGITS + SEQUENCE_DIGITS + TAG_DIGITS + 1
_TAG_LABEL = b"vk/v1 offline code\x00"


class OfflineCodeProblem(enum.StrEnum):
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    CHECK_DIGIT = "check_digit"
    SLOT = "slot"
    SEQUENCE = "sequence"


@dataclass(frozen=True)
class OfflineCodeParts:
    slot: int
    sequence: int
    tag: str


def offline_code(activation_key: bytes, permit_id: str, terminal: str, slot: int, sequence: int) -> str:
    """The code of the terminal's `sequence`-th offline slip under the permit (slot from Permit.slot_of)."""
    if not 1 <= slot <= MAX_PERMIT_TERMINALS or not 1 <= sequence <= MAX_OFFLINE_SLIPS:
        raise ValueError("slot or sequence out of range")
    body = f"{slot:0{SLOT_DIGITS}d}{sequence:0{SEQUENCE_DIGITS}d}{_tag(activation_key, permit_id, terminal, sequence)}"
    return body + verhoeff.calc_check_digit(body)


def parse_offline_code(code: str) -> OfflineCodeParts | OfflineCodeProblem:
    """Strictly: exactly eleven ASCII digits, a valid check digit, a slot and a sequence in range."""
    if not code.isascii() or not code.isdigit():
        return OfflineCodeProblem.NOT_DIGITS
    if len(code) != LENGTH:
        return OfflineCodeProblem.WRONG_LENGTH
    if not verhoeff.is_valid(code):
        return OfflineCodeProblem.CHECK_DIGIT
    slot, sequence = int(code[:SLOT_DIGITS]), int(code[SLOT_DIGITS:SLOT_DIGITS + SEQUENCE_DIGITS])
    if not 1 <= slot <= MAX_PERMIT_TERMINALS:
        return OfflineCodeProblem.SLOT
    if not 1 <= sequence <= MAX_OFFLINE_SLIPS:
        return OfflineCodeProblem.SEQUENCE
    return OfflineCodeParts(slot, sequence, code[SLOT_DIGITS + SEQUENCE_DIGITS:-1])


def offline_code_holds(code: str, activation_key: bytes, permit_id: str, terminal: str, slot: int) -> bool:
    """Whether `code` is one this terminal (at `slot` of the permit) could have issued under the permit."""
    parts = parse_offline_code(code)
    if isinstance(parts, OfflineCodeProblem) or parts.slot != slot:
        return False
    return hmac.compare_digest(parts.tag, _tag(activation_key, permit_id, terminal, parts.sequence))


def group_offline_code(code: str) -> str:
    """For reading and copying: slot, sequence, then tag and check digit: 01-0042-73158."""
    return f"{code[:SLOT_DIGITS]}-{code[SLOT_DIGITS:SLOT_DIGITS + SEQUENCE_DIGITS]}-{code[SLOT_DIGITS + SEQUENCE_DIGITS:]}"


def _tag(activation_key: bytes, permit_id: str, terminal: str, sequence: int) -> str:
    message = _TAG_LABEL + f"{permit_id}\x00{terminal}\x00{sequence}".encode("ascii")
    mac = hmac.new(activation_key, message, hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**TAG_DIGITS:0{TAG_DIGITS}d}"


@dataclass(frozen=True)
class OfflineIssue:
    """Terminal-signed record of one OFFLINE slip, journaled before the print and replayed to the center on
    reconciliation. The national code travels sealed to the center (JWE), as in a reserve."""

    permit_id: str = field(metadata={"pattern": ID_PATTERN})
    district: str = field(metadata={"pattern": NAME_PATTERN})
    branch: str = field(metadata={"pattern": NAME_PATTERN})
    terminal: str = field(metadata={"pattern": NAME_PATTERN})
    activation: int = field(metadata={"min": 1, "max": MAX_ACTIVATIONS})
    offline_code: str = field(metadata={"pattern": OFFLINE_CODE_PATTERN})
    sequence: int = field(metadata={"min": 1, "max": MAX_OFFLINE_SLIPS})
    sealed_voter: str = field(metadata={"max_length": 1024})
    document: DocumentKind
    issued_at: datetime
    snapshot_version: int = field(metadata={"min": 0, "max": 2**31 - 1})
    """The "already voted" snapshot the voter was checked against; 0: the terminal held none."""
    snapshot_hit: bool
    """The snapshot said the voter may have voted, and the head of branch let the slip go all the same."""


def issue_problem(issue: OfflineIssue) -> OfflineCodeProblem | None:
    """The rule that ties the record's fields together: its code parses and carries its sequence."""
    parts = parse_offline_code(issue.offline_code)
    if isinstance(parts, OfflineCodeProblem):
        return parts
    return None if parts.sequence == issue.sequence else OfflineCodeProblem.SEQUENCE
