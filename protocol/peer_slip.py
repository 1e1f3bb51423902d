"""An OFFLINE slip told to the other terminals of its permit, so that a voter cannot get a second one at the branch.

While offline, each terminal of a permit publishes, retained on its own topic, one line per OFFLINE slip it
printed: the permit, the terminal, the sequence, the voter's tag under the day's snapshot key
(protocol.voted_snapshot.voter_tag64) and the time, authenticated with an HMAC under a key derived from the
permit's activation key, which only the district and the permit's terminals hold. The broker's ACL lets a
terminal publish only under its own name, and the line must name the terminal its topic names. A line carries
no national code: only a tag that the day's snapshot key makes, the same exposure as the snapshot itself.

    v1 <permit id> <terminal> <sequence> <tag: 16 hex digits> <time> <mac: 64 hex digits>
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from protocol.codec import ProblemKind, ProtocolError, format_time
from protocol.messages import ID_PATTERN, NAME_PATTERN
from protocol.permit import MAX_OFFLINE_SLIPS, PermitSecrets

VERSION = "v1"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""protocol.codec.format_time's format."""
MAX_BYTES = 256
_KEY_LABEL = b"vk/v1 peer slip key"
_LINE = re.compile(
    rf"v1 ({ID_PATTERN}) ({NAME_PATTERN}) ([1-9][0-9]{{0,3}}) ([0-9a-f]{{16}}) (\S{{1,40}}) ([0-9a-f]{{64}})")


@dataclass(frozen=True)
class PeerSlip:
    """One OFFLINE slip of a terminal of the permit, as its peers learn of it."""

    permit_id: str
    terminal: str
    sequence: int
    tag: int
    issued_at: datetime


def peer_key(secrets: PermitSecrets) -> bytes:
    """The permit's key for its terminals' lines to each other (never the activation key itself)."""
    return hmac.new(secrets.activation_key, _KEY_LABEL, hashlib.sha256).digest()


def encode_peer_slip(slip: PeerSlip, key: bytes) -> bytes:
    if not 1 <= slip.sequence <= MAX_OFFLINE_SLIPS or not 0 <= slip.tag < 2**64:
        raise ValueError("sequence or tag out of range")
    body = f"{VERSION} {slip.permit_id} {slip.terminal} {slip.sequence} {slip.tag:016x} {format_time(slip.issued_at)}"
    if _LINE.fullmatch(f"{body} {'0' * 64}") is None:
        raise ValueError("not a peer slip's fields")
    return f"{body} {_mac(key, body)}".encode("ascii")


def parse_peer_slip(data: bytes) -> tuple[PeerSlip, str, str] | ProtocolError:
    """The line's fields, and the body and MAC to check (`holds`): strictly its one shape, nothing around it."""
    if len(data) > MAX_BYTES:
        return ProtocolError(ProblemKind.OVERSIZED, f"{len(data)} bytes")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return ProtocolError(ProblemKind.BAD_VALUE, "not ASCII")
    match = _LINE.fullmatch(text)
    if match is None:
        return ProtocolError(ProblemKind.BAD_VALUE, "not a peer slip line")
    permit_id, terminal, sequence, tag, at, mac = match.groups()
    try:
        issued_at = datetime.strptime(at, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return ProtocolError(ProblemKind.BAD_VALUE, "time")
    if int(sequence) > MAX_OFFLINE_SLIPS:
        return ProtocolError(ProblemKind.BAD_VALUE, "sequence")
    return PeerSlip(permit_id, terminal, int(sequence), int(tag, 16), issued_at), text.rsplit(" ", 1)[0], mac


def holds(body: str, mac: str, key: bytes) -> bool:
    return hmac.compare_digest(_mac(key, body), mac)


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).hexdigest()
