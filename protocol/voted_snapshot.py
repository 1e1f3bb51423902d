"""The "already voted" snapshot: a signed, versioned, chunked set of truncated keyed tags of committed voters.

On the wire each chunk is a Golomb-Rice coded sorted set (the gaps' quotients in unary, then their remainders,
as two streams so both code and decode are whole-array numpy operations) of the tags in one range of the tag
space; the chunks of a version tile the space. A FULL version replaces what the terminal holds, a DELTA adds the
voters committed since the version before it. On the terminal the set is held as a quotiented sorted set: the tag's
high bits index a bucket (offsets), the low 16 bits are kept per voter (2 bytes each). A hit means only "may have
voted": false positives occur at a rate of about n / 2^tag_bits and send the voter to the head of branch.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import itertools
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from protocol.messages import NAME_PATTERN
from protocol.national_code import NationalCode

MIN_TAG_BITS = 20
MAX_TAG_BITS = 36
REMAINDER_BITS = 16
MAX_CHUNK_TAGS = 65_536
MAX_PARTS = 4_096
MAX_BODY_BYTES = 512 * 1024
MAX_VERSION = 2**31 - 1
_TAG_LABEL = b"vk/v1 voted\x00"
_BLOCK = 4_096
"""Buckets handled at once when a delta is merged, so a merge never needs 8 bytes per held voter."""

Tags = npt.NDArray[np.uint64]


class ChunkKind(enum.StrEnum):
    FULL = "full"
    DELTA = "delta"


@dataclass(frozen=True)
class ChunkManifest:
    """One chunk's signed description; the body it describes follows the JWS on the wire (see protocol.seal)."""

    scope: str = field(metadata={"pattern": NAME_PATTERN})
    chunk_kind: ChunkKind
    version: int = field(metadata={"min": 1, "max": MAX_VERSION})
    base_version: int = field(metadata={"min": 0, "max": MAX_VERSION})
    part: int = field(metadata={"min": 0, "max": MAX_PARTS - 1})
    parts: int = field(metadata={"min": 1, "max": MAX_PARTS})
    tag_bits: int = field(metadata={"min": MIN_TAG_BITS, "max": MAX_TAG_BITS})
    rice_bits: int = field(metadata={"min": 0, "max": MAX_TAG_BITS})
    range_start: int = field(metadata={"min": 0, "max": 2**MAX_TAG_BITS})
    range_end: int = field(metadata={"min": 1, "max": 2**MAX_TAG_BITS})
    count: int = field(metadata={"min": 0, "max": MAX_CHUNK_TAGS})
    unary_bytes: int = field(metadata={"min": 0, "max": MAX_BODY_BYTES})
    body_bytes: int = field(metadata={"min": 0, "max": MAX_BODY_BYTES})
    digest: str = field(metadata={"pattern": r"[0-9a-f]{64}"})
    committed_until: datetime
    """Every voter committed at the center before this time is in the snapshot of this version."""
    issued_at: datetime


@dataclass(frozen=True)
class SnapshotChunk:
    """A chunk whose signature, digest and body were verified (protocol.seal.open_snapshot_chunk)."""

    manifest: ChunkManifest
    body: bytes


def voter_tag64(snapshot_key: bytes, code: NationalCode) -> int:
    """The voter's 64-bit tag under the day's snapshot key; a snapshot keeps its top `tag_bits` (`truncate`)."""
    mac = hmac.new(snapshot_key, _TAG_LABEL + code.digits.encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(mac[:8], "big")


def truncate(tag64: int, tag_bits: int) -> int:
    return tag64 >> (64 - tag_bits)


def manifest_problem(m: ChunkManifest) -> str | None:
    """The rules that tie a manifest's fields together; None if they hold."""
    checks = {
        "base_version": m.base_version == (0 if m.chunk_kind is ChunkKind.FULL else m.version - 1),
        "part": m.part < m.parts,
        "rice_bits": m.rice_bits <= m.tag_bits,
        "range": m.range_start < m.range_end <= 2**m.tag_bits,
        "count": m.count <= m.range_end - m.range_start,
        "body_bytes": m.body_bytes == m.unary_bytes + (m.count * m.rice_bits + 7) // 8,
        "unary_bytes": m.count <= 8 * m.unary_bytes or m.count == m.unary_bytes == 0,
    }
    return next((name for name, holds in checks.items() if not holds), None)


def decode_tags(m: ChunkManifest, body: bytes) -> Tags | str:
    """The chunk's tags, strictly increasing and inside its range, or the name of what is wrong with the body."""
    if len(body) != m.body_bytes:
        return "body_bytes"
    if m.count == 0:
        return np.zeros(0, dtype=np.uint64) if m.unary_bytes == 0 else "unary"
    bits = np.unpackbits(np.frombuffer(body, dtype=np.uint8, count=m.unary_bytes))
    zeros = np.flatnonzero(bits == 0)
    if len(zeros) != m.count or len(bits) - 1 - int(zeros[-1]) >= 8:
        return "unary"
    quotients = np.diff(zeros, prepend=-1) - 1
    if int(quotients.max()) >= 2 ** (m.tag_bits - m.rice_bits):
        return "quotient"
    gaps = quotients.astype(np.uint64) << np.uint64(m.rice_bits)
    if m.rice_bits:
        rest = np.unpackbits(np.frombuffer(body, dtype=np.uint8, offset=m.unary_bytes))
        if rest[m.count * m.rice_bits:].any():
            return "padding"
        matrix = rest[:m.count * m.rice_bits].reshape(m.count, m.rice_bits).astype(np.uint64)
        weights = np.uint64(1) << np.arange(m.rice_bits - 1, -1, -1, dtype=np.uint64)
        gaps |= matrix @ weights
    tags = np.cumsum(gaps + np.uint64(1), dtype=np.uint64) + np.uint64(m.range_start) - np.uint64(1)
    return tags if int(tags[-1]) < m.range_end else "range"


class SnapshotRefusal(enum.StrEnum):
    FOREIGN_SCOPE = "foreign_scope"
    OLD_VERSION = "old_version"
    GAP = "gap"
    """A delta whose base is not the version held: the terminal needs the deltas between, or a full snapshot."""
    MISMATCH = "mismatch"
    CONFLICT = "conflict"
    """A part received twice with different bodies: the publisher is broken or forged; the terminal alarms."""
    BAD_TILING = "bad_tiling"


@dataclass(frozen=True)
class VotedFilter:
    """A quotiented sorted set: `offsets[b]:offsets[b+1]` are the sorted low 16 bits of the tags of bucket b."""

    tag_bits: int
    offsets: npt.NDArray[np.uint32]
    remainders: npt.NDArray[np.uint16]

    @classmethod
    def empty(cls, tag_bits: int) -> VotedFilter:
        return cls(tag_bits, np.zeros(2 ** (tag_bits - REMAINDER_BITS) + 1, dtype=np.uint32),
                   np.zeros(0, dtype=np.uint16))

    @classmethod
    def from_sorted(cls, tag_bits: int, runs: list[Tags]) -> VotedFilter:
        """From runs of strictly increasing tags, each run above the one before (a FULL version's parts), one run
        at a time, so the build needs no more than 2 bytes per voter and one run."""
        counts = np.zeros(2 ** (tag_bits - REMAINDER_BITS), dtype=np.uint32)
        remainders = []
        for run in runs:
            if len(run):
                buckets = (run >> np.uint64(REMAINDER_BITS)).astype(np.int64)
                low = int(buckets[0])
                counts[low:int(buckets[-1]) + 1] += np.bincount(buckets - low).astype(np.uint32)
                remainders.append((run & np.uint64(0xFFFF)).astype(np.uint16))
        offsets = np.concatenate(([0], np.cumsum(counts, dtype=np.uint64))).astype(np.uint32)
        return cls(tag_bits, offsets, np.concatenate(remainders) if remainders else np.zeros(0, dtype=np.uint16))

    def __len__(self) -> int:
        return len(self.remainders)

    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.remainders.nbytes)

    def __contains__(self, tag: int) -> bool:
        bucket, remainder = tag >> REMAINDER_BITS, tag & 0xFFFF
        lo, hi = int(self.offsets[bucket]), int(self.offsets[bucket + 1])
        at = lo + int(np.searchsorted(self.remainders[lo:hi], remainder))
        return at < hi and int(self.remainders[at]) == remainder

    def merged(self, tags: Tags) -> VotedFilter:
        """This set with `tags` added (set semantics: a tag held already is not added twice)."""
        tags = np.unique(tags)
        buckets = (tags >> np.uint64(REMAINDER_BITS)).astype(np.int64)
        rems = (tags & np.uint64(0xFFFF)).astype(np.uint32)
        nbuckets = len(self.offsets) - 1
        positions, fresh = np.zeros(len(tags), dtype=np.int64), np.zeros(len(tags), dtype=bool)
        edges = np.searchsorted(buckets, np.arange(0, nbuckets + _BLOCK, _BLOCK))
        for block, (first, last) in enumerate(itertools.pairwise(edges)):
            if first == last:
                continue
            start, stop = block * _BLOCK, min((block + 1) * _BLOCK, nbuckets)
            lo = int(self.offsets[start])
            held_buckets = np.repeat(np.arange(stop - start, dtype=np.uint32), np.diff(self.offsets[start:stop + 1]))
            held = (held_buckets << np.uint32(16)) | self.remainders[lo:int(self.offsets[stop])].astype(np.uint32)
            wanted = ((buckets[first:last] - start).astype(np.uint32) << np.uint32(16)) | rems[first:last]
            at = np.searchsorted(held, wanted)
            present = np.zeros(last - first, dtype=bool)
            if len(held):
                present = (at < len(held)) & (held[np.minimum(at, len(held) - 1)] == wanted)
            positions[first:last], fresh[first:last] = lo + at, ~present
        counts = np.bincount(buckets[fresh], minlength=nbuckets)
        offsets = self.offsets + np.concatenate(([0], np.cumsum(counts))).astype(np.uint32)
        remainders = np.insert(self.remainders, positions[fresh], rems[fresh].astype(np.uint16))
        return VotedFilter(self.tag_bits, offsets, remainders)


@dataclass(frozen=True)
class HeldSnapshot:
    version: int
    committed_until: datetime
    voters: VotedFilter


@dataclass(frozen=True)
class SnapshotState:
    """What the terminal holds for one scope: the last complete version, and the parts of the next one so far."""

    scope: str
    held: HeldSnapshot | None = None
    pending: tuple[SnapshotChunk, ...] = ()

    def may_have_voted(self, tag64: int) -> bool | None:
        """Whether the voter's tag is in the snapshot held; None when none is held."""
        if self.held is None:
            return None
        return truncate(tag64, self.held.voters.tag_bits) in self.held.voters


def receive(state: SnapshotState, chunk: SnapshotChunk) -> SnapshotState | SnapshotRefusal:
    """Take a verified chunk: an old or foreign one is refused, a delta must follow the version held, the parts of
    one version must agree and tile the tag space; when the last part arrives the version is installed."""
    m = chunk.manifest
    if m.scope != state.scope:
        return SnapshotRefusal.FOREIGN_SCOPE
    held = state.held
    if held is not None and m.version <= held.version:
        return SnapshotRefusal.OLD_VERSION
    if m.chunk_kind is ChunkKind.DELTA and (held is None or m.base_version != held.version):
        return SnapshotRefusal.GAP
    if m.chunk_kind is ChunkKind.DELTA and held is not None and m.tag_bits != held.voters.tag_bits:
        return SnapshotRefusal.MISMATCH
    pending = state.pending
    if pending and pending[0].manifest.version > m.version:
        return SnapshotRefusal.OLD_VERSION
    if pending and pending[0].manifest.version < m.version:
        pending = ()
    if pending and _shape(pending[0].manifest) != _shape(m):
        return SnapshotRefusal.MISMATCH
    same = next((earlier for earlier in pending if earlier.manifest.part == m.part), None)
    if same is not None:
        return state if same.manifest.digest == m.digest else SnapshotRefusal.CONFLICT
    pending = (*pending, chunk)
    if len(pending) < m.parts:
        return dataclasses.replace(state, pending=pending)
    return _install(state, tuple(sorted(pending, key=lambda c: c.manifest.part)))


def _shape(m: ChunkManifest) -> tuple[object, ...]:
    return m.chunk_kind, m.version, m.parts, m.tag_bits, m.committed_until


def _install(state: SnapshotState, parts: tuple[SnapshotChunk, ...]) -> SnapshotState | SnapshotRefusal:
    first = parts[0].manifest
    edges = [(c.manifest.range_start, c.manifest.range_end) for c in parts]
    if edges[0][0] != 0 or edges[-1][1] != 2**first.tag_bits or any(
            previous[1] != following[0] for previous, following in itertools.pairwise(edges)):
        return SnapshotRefusal.BAD_TILING
    runs = []
    for chunk in parts:
        tags = decode_tags(chunk.manifest, chunk.body)
        if isinstance(tags, str):
            return SnapshotRefusal.MISMATCH
        runs.append(tags)
    if first.chunk_kind is ChunkKind.FULL or state.held is None:
        voters = VotedFilter.from_sorted(first.tag_bits, runs)
    else:
        voters = state.held.voters.merged(np.concatenate(runs))
    return SnapshotState(state.scope, HeldSnapshot(first.version, first.committed_until, voters), ())
