"""The "already voted" snapshot: chunks built at the center, verified and assembled on the terminal, refused when
forged, old, out of order, oversized or inconsistent; membership is exact at the tag's resolution."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from center.voted_snapshot import build_chunks, sign_chunks
from protocol.codec import ProblemKind, ProtocolError
from protocol.national_code import NationalCode, complete_national_code
from protocol.seal import generate_signing_key, open_snapshot_chunk, public_part, sign_snapshot_chunk
from protocol.voted_snapshot import (
    MAX_BODY_BYTES,
    ChunkKind,
    ChunkManifest,
    SnapshotChunk,
    SnapshotRefusal,
    SnapshotState,
    Tags,
    VotedFilter,
    decode_tags,
    receive,
    truncate,
    voter_tag64,
)

AT = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
KEY = generate_signing_key()
PUBLIC = public_part(KEY)


def _tags(count: int, seed: int) -> Tags:
    return np.random.default_rng(seed).integers(0, 2**63, count, dtype=np.uint64) * np.uint64(2)


def _chunks(tags: Tags, version: int, chunk_kind: ChunkKind = ChunkKind.FULL, *, tag_bits: int = 28,
            scope: str = "D01", max_tags: int = 1_000) -> list[SnapshotChunk]:
    built = build_chunks(tags, scope=scope, chunk_kind=chunk_kind, version=version, tag_bits=tag_bits,
                         committed_until=AT + timedelta(minutes=version), issued_at=AT, max_tags=max_tags)
    opened = [open_snapshot_chunk(data, PUBLIC) for data in sign_chunks(built, KEY)]
    assert all(isinstance(chunk, SnapshotChunk) for chunk in opened), opened
    return [chunk for chunk in opened if isinstance(chunk, SnapshotChunk)]


def _fed(state: SnapshotState, chunks: list[SnapshotChunk]) -> SnapshotState:
    for chunk in chunks:
        after = receive(state, chunk)
        assert isinstance(after, SnapshotState), f"part {chunk.manifest.part} refused: {after}"
        state = after
    return state


def test_a_full_snapshot_in_any_order_holds_every_voter_and_few_others() -> None:
    tags = _tags(5_000, 1)
    chunks = _chunks(tags, 1)
    assert len(chunks) > 4
    state = _fed(SnapshotState("D01"), chunks[::-1])
    assert state.held is not None and state.held.version == 1 and len(state.held.voters) == 5_000
    assert all(state.may_have_voted(int(tag)) for tag in tags)
    strangers = _tags(20_000, 2) + np.uint64(1)
    false_hits = sum(bool(state.may_have_voted(int(tag))) for tag in strangers)
    assert false_hits <= 20_000 * 5_000 / 2**28 * 4 + 5, f"{false_hits} false hits"


def test_a_part_missing_leaves_the_version_not_installed() -> None:
    state = _fed(SnapshotState("D01"), _chunks(_tags(3_000, 3), 1)[1:])
    assert state.held is None and state.may_have_voted(0) is None


def test_deltas_add_the_voters_committed_since_and_must_come_in_order() -> None:
    base, first, second = _tags(2_000, 4), _tags(300, 5), _tags(300, 6)
    state = _fed(SnapshotState("D01"), _chunks(base, 1))
    delta_2, delta_3 = _chunks(first, 2, ChunkKind.DELTA), _chunks(second, 3, ChunkKind.DELTA)
    assert receive(state, delta_3[0]) is SnapshotRefusal.GAP
    state = _fed(state, delta_2)
    assert receive(state, delta_2[0]) is SnapshotRefusal.OLD_VERSION
    state = _fed(state, delta_3)
    assert state.held is not None and state.held.version == 3
    assert all(state.may_have_voted(int(tag)) for tag in np.concatenate([base, first, second]))
    assert state.held.committed_until == AT + timedelta(minutes=3)


def test_a_delta_without_a_base_and_an_old_or_foreign_snapshot_are_refused() -> None:
    assert receive(SnapshotState("D01"), _chunks(_tags(10, 7), 2, ChunkKind.DELTA)[0]) is SnapshotRefusal.GAP
    state = _fed(SnapshotState("D01"), _chunks(_tags(100, 8), 5))
    assert receive(state, _chunks(_tags(100, 9), 4)[0]) is SnapshotRefusal.OLD_VERSION
    assert receive(state, _chunks(_tags(100, 9), 6, scope="D02")[0]) is SnapshotRefusal.FOREIGN_SCOPE
    assert receive(state, _chunks(_tags(10, 9), 6, ChunkKind.DELTA, tag_bits=30)[0]) is SnapshotRefusal.MISMATCH


def test_a_newer_full_version_drops_the_parts_of_an_older_one() -> None:
    old, new = _chunks(_tags(3_000, 10), 1), _chunks(_tags(3_000, 11), 2)
    state = _fed(SnapshotState("D01"), old[:2])
    state = _fed(state, new)
    assert state.held is not None and state.held.version == 2 and not state.pending
    assert receive(state, old[2]) is SnapshotRefusal.OLD_VERSION


def test_a_part_again_is_taken_once_and_a_different_part_under_the_same_number_is_a_conflict() -> None:
    chunks = _chunks(_tags(3_000, 12), 1)
    state = _fed(SnapshotState("D01"), chunks[:1])
    assert receive(state, chunks[0]) == state
    other = _chunks(_tags(3_000, 13), 1)
    assert other[0].manifest.parts == chunks[0].manifest.parts
    assert receive(state, other[0]) is SnapshotRefusal.CONFLICT


def test_parts_of_one_version_that_disagree_or_do_not_tile_are_refused() -> None:
    chunks = _chunks(_tags(3_000, 14), 1)
    state = _fed(SnapshotState("D01"), chunks[:1])
    wider = _chunks(_tags(3_000, 14), 1, tag_bits=30)
    assert receive(state, wider[1]) is SnapshotRefusal.MISMATCH
    gap = dataclasses.replace(chunks[-1].manifest, range_start=chunks[-1].manifest.range_start + 1)
    resigned = open_snapshot_chunk(sign_snapshot_chunk(gap, chunks[-1].body, KEY), PUBLIC)
    assert isinstance(resigned, SnapshotChunk), resigned
    assert receive(_fed(SnapshotState("D01"), chunks[:-1]), resigned) is SnapshotRefusal.BAD_TILING


def test_a_chunk_signed_by_another_key_or_with_a_changed_body_is_refused() -> None:
    manifest, body = build_chunks(_tags(500, 15), scope="D01", chunk_kind=ChunkKind.FULL, version=1, tag_bits=28,
                                  committed_until=AT, issued_at=AT)[0]
    forged = sign_snapshot_chunk(manifest, body, generate_signing_key())
    assert _kind(open_snapshot_chunk(forged, PUBLIC)) is ProblemKind.BAD_SIGNATURE
    genuine = sign_snapshot_chunk(manifest, body, KEY)
    flipped = genuine[:-1] + bytes([genuine[-1] ^ 1])
    assert _kind(open_snapshot_chunk(flipped, PUBLIC)) is ProblemKind.BAD_SIGNATURE
    assert _kind(open_snapshot_chunk(genuine.partition(b"\n")[0], PUBLIC)) is ProblemKind.BAD_SIGNATURE
    with pytest.raises(ValueError, match="does not describe"):
        sign_snapshot_chunk(manifest, body + b"\0", KEY)


def test_an_oversized_chunk_is_refused_before_it_is_parsed() -> None:
    assert _kind(open_snapshot_chunk(b"x" * (MAX_BODY_BYTES + 20_000), PUBLIC)) is ProblemKind.OVERSIZED


def _kind(found: object) -> ProblemKind:
    assert isinstance(found, ProtocolError), f"accepted: {found!r}"
    return found.kind


def _signed_manifest(body: bytes, **fields: object) -> bytes:
    manifest = ChunkManifest("D01", ChunkKind.FULL, 1, 0, 0, 1, 24, 8, 0, 2**24, 1, len(body) - 1, len(body),
                             hashlib.sha256(body).hexdigest(), AT, AT)
    return sign_snapshot_chunk(dataclasses.replace(manifest, **fields), body, KEY)  # type: ignore[arg-type]


@pytest.mark.parametrize(("body", "fields", "where"), [
    (b"\xbf\x05", {}, None),
    (b"\x3f\x05", {}, "body.unary"),
    (b"\x7f\xff\x05", {"unary_bytes": 2}, "body.unary"),
    (b"\x7f\x05", {"count": 70_000}, "count"),
    (b"\x7f\x05", {"range_end": 2**25}, "range"),
    (b"\x7f\x05", {"base_version": 3}, "base_version"),
    (b"\x7f\x05", {"part": 1}, "part"),
    (b"\x7f\x05", {"rice_bits": 16}, "body_bytes"),
    (b"\x7f\x05", {"rice_bits": 30}, "rice_bits"),
    (b"\xff\xfe\x05", {"unary_bytes": 2, "rice_bits": 0, "body_bytes": 3}, "body_bytes"),
])
def test_a_signed_manifest_and_body_that_do_not_agree_are_refused(body: bytes, fields: dict[str, object],
                                                                 where: str | None) -> None:
    found = open_snapshot_chunk(_signed_manifest(body, **fields), PUBLIC)
    if where is None:
        assert isinstance(found, SnapshotChunk)
        tags = decode_tags(found.manifest, found.body)
        assert not isinstance(tags, str) and list(tags) == [(1 << 8) + 5]
    else:
        assert isinstance(found, ProtocolError) and found.where == where, found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=400), st.lists(st.integers(0, 2**64 - 1), max_size=200),
       st.sampled_from([20, 24, 36]))
def test_membership_is_exactly_the_set_of_truncated_tags(first: list[int], later: list[int], tag_bits: int) -> None:
    state = _fed(SnapshotState("D01"), _chunks(np.array(first, dtype=np.uint64), 1, tag_bits=tag_bits, max_tags=64))
    state = _fed(state, _chunks(np.array(later, dtype=np.uint64), 2, ChunkKind.DELTA, tag_bits=tag_bits,
                                max_tags=64))
    held = {truncate(tag, tag_bits) for tag in first + later}
    assert state.held is not None and len(state.held.voters) == len(held)
    for probe in [*first, *later, *(tag ^ (1 << 63) for tag in first[:50])]:
        assert state.may_have_voted(probe) == (truncate(probe, tag_bits) in held)


def test_a_delta_merged_equals_the_set_built_at_once() -> None:
    a, b = _tags(4_000, 16), _tags(1_500, 17)
    bits = 24
    merged = VotedFilter.from_sorted(bits, [np.unique(a >> np.uint64(64 - bits))]).merged(b >> np.uint64(64 - bits))
    at_once = VotedFilter.from_sorted(bits, [np.unique(np.concatenate([a, b]) >> np.uint64(64 - bits))])
    assert np.array_equal(merged.offsets, at_once.offsets) and np.array_equal(merged.remainders, at_once.remainders)


def test_the_voter_tag_depends_on_the_key_and_the_voter() -> None:
    one, two = NationalCode(complete_national_code("001234567")), NationalCode(complete_national_code("001234568"))
    key = bytes(32)
    assert voter_tag64(key, one) == voter_tag64(key, one)
    assert len({voter_tag64(key, one), voter_tag64(key, two), voter_tag64(bytes([1]) * 32, one)}) == 3
    assert 0 <= truncate(voter_tag64(key, one), 28) < 2**28
