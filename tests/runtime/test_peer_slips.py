"""The OFFLINE slips other terminals tell of, as the terminal keeps them: the topic must name the line's terminal,
a line under a permit held here is checked at once, others are kept until a permit can check them, and a forged
line never hides the genuine one."""

from __future__ import annotations

from datetime import UTC, datetime

from firmware_app.runtime.peer_slips import PeerSlips
from protocol.peer_slip import PeerSlip, encode_peer_slip, peer_key
from protocol.permit import PermitSecrets
from protocol.topics import peer_slip_topic

AT = datetime(2026, 6, 12, 18, 0, tzinfo=UTC)
PERMIT = "c" * 32
KEY = peer_key(PermitSecrets(b"a" * 32, b"s" * 32))
WRONG = peer_key(PermitSecrets(b"w" * 32, b"s" * 32))


def _line(terminal: str = "T-0102", tag: int = 42, key: bytes = KEY, sequence: int = 1) -> bytes:
    return encode_peer_slip(PeerSlip(PERMIT, terminal, sequence, tag, AT), key)


def _topic(terminal: str = "T-0102", sequence: int = 1) -> str:
    return peer_slip_topic("D01", terminal, PERMIT, sequence)


def held(permit_id: str) -> bytes | None:
    return KEY if permit_id == PERMIT else None


def not_held(_permit_id: str) -> bytes | None:
    return None


def test_a_genuine_line_counts_and_names_its_terminal() -> None:
    peers = PeerSlips("T-0101")
    assert peers.take(_topic(), _line(), held) is None
    assert peers.issued_by(PERMIT, KEY, 42) == "T-0102"
    assert peers.issued_by(PERMIT, KEY, 43) is None and peers.issued_by("d" * 32, KEY, 42) is None


def test_a_line_under_another_terminals_topic_or_malformed_is_refused() -> None:
    peers = PeerSlips("T-0101")
    assert peers.take(_topic("T-0103"), _line("T-0102"), held) == "the line names T-0102, its topic T-0103"
    assert peers.take("vk/v1/D01/offline/T-0102", _line(), held) == "not a peer slip topic"
    assert peers.take(_topic(), b"v1 nonsense", held) is not None
    assert peers.issued_by(PERMIT, KEY, 42) is None


def test_a_forged_line_is_refused_at_once_under_a_permit_held_and_never_counts_otherwise() -> None:
    peers = PeerSlips("T-0101")
    assert peers.take(_topic(), _line(key=WRONG), held) == "its MAC does not hold under the permit's key"
    later = PeerSlips("T-0101")
    assert later.take(_topic(), _line(key=WRONG), not_held) is None, "kept until a permit can check it"
    assert later.take(_topic(), _line(), not_held) is None, "the genuine line is kept beside the forged one"
    assert later.issued_by(PERMIT, KEY, 42) == "T-0102"
    forged_only = PeerSlips("T-0101")
    forged_only.take(_topic(), _line(key=WRONG), not_held)
    assert forged_only.issued_by(PERMIT, KEY, 42) is None


def test_own_lines_repeats_and_cleared_lines_change_nothing() -> None:
    peers = PeerSlips("T-0102")
    assert peers.take(_topic(), _line(), held) is None
    assert peers.issued_by(PERMIT, KEY, 42) is None, "a terminal's own line is its journal's business"
    other = PeerSlips("T-0101")
    assert other.take(_topic(), _line(), held) is None and other.take(_topic(), _line(), held) is None
    assert other.take(_topic(), b"", held) is None
    assert other.issued_by(PERMIT, KEY, 42) == "T-0102"
