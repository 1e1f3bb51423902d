"""The line a terminal tells its permit's other terminals of an OFFLINE slip: its one strict shape, its MAC under
the permit's peer key, and no national code in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import ProtocolError
from protocol.national_code import NationalCode, complete_national_code
from protocol.peer_slip import MAX_BYTES, PeerSlip, encode_peer_slip, holds, parse_peer_slip, peer_key
from protocol.permit import PermitSecrets
from protocol.voted_snapshot import voter_tag64

AT = datetime(2026, 6, 12, 18, 5, 1, 250_000, tzinfo=UTC)
SECRETS = PermitSecrets(b"a" * 32, b"s" * 32)
KEY = peer_key(SECRETS)
VOTER = NationalCode(complete_national_code("001234567"))
SLIP = PeerSlip("c" * 32, "T-0102", 7, voter_tag64(SECRETS.snapshot_key, VOTER), AT)


def test_a_line_round_trips_and_holds_only_under_its_permits_key() -> None:
    line = encode_peer_slip(SLIP, KEY)
    parsed = parse_peer_slip(line)
    assert not isinstance(parsed, ProtocolError)
    slip, body, mac = parsed
    assert slip == SLIP and holds(body, mac, KEY)
    assert not holds(body, mac, peer_key(PermitSecrets(b"b" * 32, SECRETS.snapshot_key)))
    assert SECRETS.activation_key != KEY, "the activation key itself never signs a line"
    assert VOTER.digits.encode() not in line and len(line) <= MAX_BYTES


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_one_byte_changed_is_refused_or_does_not_hold(position: int, value: int) -> None:
    line = bytearray(encode_peer_slip(SLIP, KEY))
    at = position % len(line)
    if line[at] == value:
        return
    line[at] = value
    parsed = parse_peer_slip(bytes(line))
    if not isinstance(parsed, ProtocolError):
        _, body, mac = parsed
        assert not holds(body, mac, KEY), f"a changed line held: {bytes(line)!r}"


@pytest.mark.parametrize("line", [
    b"", b"v2" + encode_peer_slip(SLIP, KEY)[2:], encode_peer_slip(SLIP, KEY) + b"\n",
    b" " + encode_peer_slip(SLIP, KEY), b"x" * (MAX_BYTES + 1), "v1 ۱".encode(),
    encode_peer_slip(SLIP, KEY).replace(b" 7 ", b" 0 "), encode_peer_slip(SLIP, KEY).replace(b"Z ", b"+03:30 "),
])
def test_anything_but_the_one_shape_is_refused(line: bytes) -> None:
    assert isinstance(parse_peer_slip(line), ProtocolError)


@pytest.mark.parametrize("slip", [
    PeerSlip("C" * 32, "T-0102", 1, 0, AT), PeerSlip("c" * 32, "T 0102", 1, 0, AT),
    PeerSlip("c" * 32, "T-0102", 0, 0, AT), PeerSlip("c" * 32, "T-0102", 10_000, 0, AT),
    PeerSlip("c" * 32, "T-0102", 1, 2**64, AT),
])
def test_a_line_is_never_made_of_fields_out_of_shape(slip: PeerSlip) -> None:
    with pytest.raises(ValueError):
        encode_peer_slip(slip, KEY)
