"""The center's side of the "already voted" snapshot: the day's snapshot key, and full and delta chunks of tags.

Chunks are built from the voters' 64-bit tags (protocol.voted_snapshot.voter_tag64), which the responder can
compute only while it holds the national code, at reserve: the registry keeps only HMACs under the voter key,
and the terminals must never hold that key. The chunk coding is Golomb-Rice with the remainder width chosen per
chunk for its density; the receiving side is protocol.voted_snapshot.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import OKPKey

from protocol.seal import sign_snapshot_chunk
from protocol.voted_snapshot import MAX_CHUNK_TAGS, MAX_PARTS, ChunkKind, ChunkManifest, Tags

_KEY_INFO = b"vk/v1 voted snapshot key "
_FILL = 0.75
"""Parts are sized for this share of MAX_CHUNK_TAGS, so that a random range rarely overflows one."""


def snapshot_key(voter_key: bytes, election_day: date) -> bytes:
    """The day's snapshot key, derived from the voter key every district shares (HKDF-SHA256, the day in its
    info): the same voter has the same tag in every district, a terminal that leaks it leaks one day's
    tags only, and it never lets anyone look a voter up in the registry."""
    info = _KEY_INFO + election_day.isoformat().encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(voter_key)


def rice_bits(count: int, span: int) -> int:
    """The remainder width for `count` tags spread over `span` values: about log2 of the mean gap times ln 2,
    the optimal Golomb parameter for geometric gaps rounded to a power of two."""
    if count == 0:
        return 0
    mean_gap = span / count
    return max(0, math.floor(math.log2(max(mean_gap * math.log(2), 1.0))))


def encode_run(tags: Tags, range_start: int, bits: int) -> tuple[bytes, bytes]:
    """Sorted distinct tags of one range as (unary stream of the gaps' quotients, their `bits`-wide remainders)."""
    if len(tags) == 0:
        return b"", b""
    values = tags.astype(np.uint64)
    gaps: Tags = np.empty_like(values)
    gaps[0] = values[0] - np.uint64(range_start)
    gaps[1:] = values[1:] - values[:-1] - np.uint64(1)
    quotients = (gaps >> np.uint64(bits)).astype(np.int64)
    length = int(quotients.sum()) + len(tags)
    stream = np.ones((length + 7) // 8 * 8, dtype=np.uint8)
    stream[np.cumsum(quotients + 1) - 1] = 0
    unary = np.packbits(stream).tobytes()
    if bits == 0:
        return unary, b""
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint64)
    matrix = ((gaps[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)
    return unary, np.packbits(matrix.ravel()).tobytes()


def build_chunks(tags64: Iterable[int] | Tags, *, scope: str, chunk_kind: ChunkKind, version: int, tag_bits: int,
                 committed_until: datetime, issued_at: datetime,
                 max_tags: int = MAX_CHUNK_TAGS) -> list[tuple[ChunkManifest, bytes]]:
    """The parts of one version (FULL: every committed voter; DELTA: those committed since `version - 1`), each
    covering an equal range of the tag space and at most `max_tags` tags; together they tile the space."""
    if not 1 <= max_tags <= MAX_CHUNK_TAGS:
        raise ValueError("max_tags out of range")
    raw = tags64 if isinstance(tags64, np.ndarray) else np.fromiter(tags64, dtype=np.uint64)
    tags = np.unique(raw.astype(np.uint64) >> np.uint64(64 - tag_bits))
    space = 2**tag_bits
    parts = max(1, math.ceil(len(tags) / (max_tags * _FILL)))
    while True:
        if parts > MAX_PARTS:
            raise ValueError("too many tags for one version")
        edges = [space * index // parts for index in range(parts + 1)]
        cuts = np.searchsorted(tags, np.array(edges, dtype=np.uint64))
        if int(np.diff(cuts).max()) <= max_tags:
            break
        parts *= 2
    base = 0 if chunk_kind is ChunkKind.FULL else version - 1
    chunks = []
    for part in range(parts):
        run = tags[cuts[part]:cuts[part + 1]]
        width = min(rice_bits(len(run), edges[part + 1] - edges[part]), tag_bits)
        unary, remainders = encode_run(run, edges[part], width)
        body = unary + remainders
        manifest = ChunkManifest(scope, chunk_kind, version, base, part, parts, tag_bits, width, edges[part],
                                 edges[part + 1], len(run), len(unary), len(body), hashlib.sha256(body).hexdigest(),
                                 committed_until, issued_at)
        chunks.append((manifest, body))
    return chunks


def sign_chunks(chunks: Iterable[tuple[ChunkManifest, bytes]], center_key: OKPKey) -> list[bytes]:
    """Each chunk as it goes on the wire (protocol.seal.sign_snapshot_chunk)."""
    return [sign_snapshot_chunk(manifest, body, center_key) for manifest, body in chunks]
