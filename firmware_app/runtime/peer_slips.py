"""The OFFLINE slips the district's other terminals told their peers of, for the check before an OFFLINE slip.

Lines come from every terminal of the district (the broker cannot confine them to a branch). Each is parsed
strictly when it arrives and must name the terminal its topic names; its MAC is checked with the key of the
permit it names, which only that permit's terminals can derive, when the terminal holds that permit. Lines of
permits not held here are kept unverified (bounded): they are another branch's, or of a permit still on its way.
Lines are keyed by their MAC too, so a forged line that came first cannot keep the genuine one out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protocol.codec import ProtocolError
from protocol.peer_slip import PeerSlip, holds, parse_peer_slip
from protocol.topics import terminal_of_peer_slip_topic

MAX_LINES = 200_000
"""Lines kept at most (about 150 bytes each); beyond it new lines are refused and audited."""


@dataclass
class _Line:
    slip: PeerSlip
    body: str
    mac: str
    verified: bool | None = None


class PeerSlips:
    """Used only on the loop's thread."""

    def __init__(self, terminal: str) -> None:
        self._me = terminal
        self._by_permit: dict[str, dict[tuple[str, int, str], _Line]] = {}
        self._count = 0

    def take(self, topic: str, payload: bytes, key_of: Callable[[str], bytes | None]) -> str | None:
        """Keep a line; why it is refused (audited by the caller), or None. A line of this terminal's own, a line
        delivered again, and a cleared (empty) retained line are ignored. `key_of(permit id)`: the peer key of a
        permit this terminal holds (None: not held), with which the line's MAC is checked at once."""
        if not payload:
            return None
        sender = terminal_of_peer_slip_topic(topic)
        if sender is None:
            return "not a peer slip topic"
        parsed = parse_peer_slip(payload)
        if isinstance(parsed, ProtocolError):
            return str(parsed)
        slip, body, mac = parsed
        if slip.terminal != sender:
            return f"the line names {slip.terminal}, its topic {sender}"
        if sender == self._me:
            return None
        lines = self._by_permit.setdefault(slip.permit_id, {})
        if (slip.terminal, slip.sequence, mac) in lines:
            return None
        key = key_of(slip.permit_id)
        verified = None if key is None else holds(body, mac, key)
        if verified is False:
            return "its MAC does not hold under the permit's key"
        if self._count >= MAX_LINES:
            return "too many lines held"
        lines[(slip.terminal, slip.sequence, mac)] = _Line(slip, body, mac, verified)
        self._count += 1
        return None

    def issued_by(self, permit_id: str, key: bytes, tag: int) -> str | None:
        """The other terminal of the permit that told of an OFFLINE slip of this voter's tag, if any; lines whose
        MAC does not hold under the permit's key never count."""
        for line in self._by_permit.get(permit_id, {}).values():
            if line.slip.tag != tag:
                continue
            if line.verified is None:
                line.verified = holds(line.body, line.mac, key)
            if line.verified:
                return line.slip.terminal
        return None
