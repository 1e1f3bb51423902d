"""The terminal's "already voted" snapshots: chunks verified and taken in any order of arrival, versions installed
whole, and forged, foreign or conflicting chunks refused without changing what is held."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from center.voted_snapshot import build_chunks, sign_chunks
from firmware_app.runtime.snapshots import (
    CHUNK_SUFFIX,
    MAX_STASHED_BYTES,
    NATION_SCOPE,
    ChunkTaken,
    VotedSnapshots,
)
from protocol.seal import generate_signing_key, public_part
from protocol.voted_snapshot import ChunkKind

CENTER = generate_signing_key()
UNTIL = datetime(2026, 6, 12, 12, 0, tzinfo=UTC)
TAG_BITS = 24


def _tag(n: int) -> int:
    return (n * 0x9E3779B97F4A7C15) % 2**64


def _version(tags: list[int], version: int, kind: ChunkKind, *, scope: str = "D01", max_tags: int = 65_536,
             key: object = CENTER) -> list[bytes]:
    chunks = build_chunks(tags, scope=scope, chunk_kind=kind, version=version, tag_bits=TAG_BITS,
                          committed_until=UNTIL + timedelta(minutes=version), issued_at=UNTIL, max_tags=max_tags)
    return sign_chunks(chunks, key)  # type: ignore[arg-type]


def _held() -> VotedSnapshots:
    return VotedSnapshots("D01", public_part(CENTER))


def _day() -> tuple[list[bytes], list[int]]:
    """A FULL version 10 of voters 0-299 in several parts, then deltas 11 and 12 of 100 voters each."""
    wire = _version([_tag(n) for n in range(300)], 10, ChunkKind.FULL, max_tags=64)
    wire += _version([_tag(n) for n in range(300, 400)], 11, ChunkKind.DELTA, max_tags=64)
    wire += _version([_tag(n) for n in range(400, 500)], 12, ChunkKind.DELTA)
    return wire, list(range(500))


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_retained_chunks_in_any_order_end_in_the_newest_version_holding_every_voter(shuffle: random.Random) -> None:
    wire, voters = _day()
    shuffle.shuffle(wire)
    held = _held()
    for payload in wire:
        assert held.take(payload).refusal is None
    (snapshot,) = held.held()
    assert snapshot.version == 12
    assert all(held.check(_tag(n)).hit for n in voters)
    assert held.check(_tag(10_000)).version == 12


def test_a_chunk_delivered_again_is_repeated_and_an_empty_one_is_ignored() -> None:
    wire, _ = _day()
    held = _held()
    outcomes = [held.take(payload).taken for payload in wire]
    assert outcomes[-1] is ChunkTaken.INSTALLED
    assert {held.take(payload).taken for payload in wire} == {ChunkTaken.REPEATED}
    assert held.take(b"").taken is ChunkTaken.REPEATED


def test_forged_foreign_and_conflicting_chunks_are_refused_and_change_nothing() -> None:
    held = _held()
    for payload in _version([_tag(1)], 10, ChunkKind.FULL):
        held.take(payload)
    forged = _version([_tag(2)], 11, ChunkKind.DELTA, key=generate_signing_key())[0]
    assert (held.take(forged).refusal or "").startswith("bad_signature")
    other = _version([_tag(2)], 11, ChunkKind.FULL, scope="D02")[0]
    assert held.take(other).refusal == "foreign_scope"
    token, _, body = _version([_tag(2)], 11, ChunkKind.DELTA)[0].partition(b"\n")
    assert held.take(token + b"\n" + body[:-1] + bytes([body[-1] ^ 1])).refusal is not None, "a body altered"
    assert held.take(b"not a chunk").refusal is not None
    first = _version([_tag(n) for n in range(200)], 11, ChunkKind.DELTA, max_tags=64)
    second = _version([_tag(n) for n in range(200, 400)], 11, ChunkKind.DELTA, max_tags=64)
    assert held.take(first[0]).taken is ChunkTaken.PENDING
    assert held.take(second[0]).refusal == "conflict"
    (snapshot,) = held.held()
    assert snapshot.version == 10 and held.check(_tag(1)).hit and not held.check(_tag(2)).hit


def test_the_district_and_the_nation_are_held_side_by_side_and_either_hits() -> None:
    held = _held()
    for payload in _version([_tag(1)], 5, ChunkKind.FULL) + _version([_tag(2)], 9, ChunkKind.FULL,
                                                                      scope=NATION_SCOPE):
        assert held.take(payload).taken is ChunkTaken.INSTALLED
    assert held.check(_tag(1)).hit and held.check(_tag(2)).hit
    assert held.check(_tag(3)).version == 9, "the newest snapshot held is named"


def test_no_snapshot_held_is_version_zero_and_no_hit() -> None:
    check = _held().check(_tag(1))
    assert (check.hit, check.version, check.committed_until) == (False, 0, None)


def test_deltas_kept_aside_are_bounded() -> None:
    held = _held()
    tags = [_tag(n) for n in range(60_000)]
    big = sum(len(payload) for payload in _version(tags, 100, ChunkKind.DELTA))
    versions = MAX_STASHED_BYTES // big + 3
    for version in range(100, 100 + versions):
        for payload in _version(tags, version, ChunkKind.DELTA):
            assert held.take(payload).taken is ChunkTaken.STASHED
    assert sum(len(chunk.body) for chunk in held._stash) <= MAX_STASHED_BYTES
    assert held.held() == ()


def test_a_restarted_terminal_holds_its_snapshot_from_disk_and_keeps_only_what_the_newest_full_needs(
        tmp_path: Path) -> None:
    wire, voters = _day()
    held = VotedSnapshots("D01", public_part(CENTER), tmp_path)
    for payload in wire:
        held.take(payload)
    (tmp_path / f"D01-stray{CHUNK_SUFFIX}").write_bytes(b"not a part")
    again = VotedSnapshots("D01", public_part(CENTER), tmp_path)
    assert not (tmp_path / f"D01-stray{CHUNK_SUFFIX}").exists(), "a file that is no part is removed at start"
    (snapshot,) = again.held()
    assert snapshot.version == 12 and all(again.check(_tag(n)).hit for n in voters)
    newer = _version([_tag(n) for n in range(600, 610)], 20, ChunkKind.FULL)
    for payload in newer:
        assert again.take(payload).taken is ChunkTaken.INSTALLED
    kept = sorted(path.name for path in tmp_path.glob(f"*{CHUNK_SUFFIX}"))
    assert kept == [f"D01-{20:010d}-0000{CHUNK_SUFFIX}"], kept
    third = VotedSnapshots("D01", public_part(CENTER), tmp_path)
    assert [h.version for h in third.held()] == [20] and not third.check(_tag(1)).hit


def test_a_part_altered_on_disk_is_refused_and_removed_and_the_rest_still_holds(tmp_path: Path) -> None:
    held = VotedSnapshots("D01", public_part(CENTER), tmp_path)
    for payload in _version([_tag(n) for n in range(10)], 5, ChunkKind.FULL):
        held.take(payload)
    for payload in _version([_tag(n) for n in range(10, 20)], 6, ChunkKind.DELTA):
        held.take(payload)
    delta = next(path for path in tmp_path.glob(f"*{CHUNK_SUFFIX}") if f"-{6:010d}-" in path.name)
    data = bytearray(delta.read_bytes())
    data[-1] ^= 1
    delta.write_bytes(bytes(data))
    again = VotedSnapshots("D01", public_part(CENTER), tmp_path)
    assert [h.version for h in again.held()] == [5], "the altered delta is not taken"
    assert not delta.exists() and again.check(_tag(3)).hit and not again.check(_tag(13)).hit
