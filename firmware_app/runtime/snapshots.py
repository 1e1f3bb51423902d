"""The "already voted" snapshots this terminal holds: chunks from the district broker verified, assembled, installed.

The district publishes one scope (its own district, or the nation); each chunk is verified with the district's key
(protocol.seal.open_snapshot_chunk) and taken by protocol.voted_snapshot.receive. Retained chunks arrive in no
particular order when the terminal subscribes, so a delta that comes before the version it follows is kept aside
(bounded) and taken again after each install.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from joserfc.jwk import OKPKey

from protocol.codec import ProtocolError
from protocol.seal import open_snapshot_chunk
from protocol.voted_snapshot import (
    ChunkKind,
    HeldSnapshot,
    SnapshotChunk,
    SnapshotRefusal,
    SnapshotState,
    receive,
)

log = logging.getLogger(__name__)

NATION_SCOPE = "nation"
"""The scope of a national snapshot; a district's own is named by the district."""
CHUNK_SUFFIX = ".chunk"
MAX_STASHED_BYTES = 16 * 1024 * 1024
"""Deltas kept aside while the version they follow is still arriving; beyond this the oldest are dropped (a later
FULL version brings the terminal up to date again)."""


class ChunkTaken(enum.StrEnum):
    INSTALLED = "installed"
    """The chunk completed a version, which is now the one held."""
    PENDING = "pending"
    """Taken; its version still lacks parts."""
    STASHED = "stashed"
    """A delta that follows a version not held yet: kept aside."""
    REPEATED = "repeated"
    """A version already held, or a part already taken (a retained message delivered again): nothing to do."""


@dataclass(frozen=True)
class ChunkOutcome:
    taken: ChunkTaken | None
    refusal: str | None = None
    """Why the chunk was refused (a signature, a foreign scope, a conflict...): only a broken or hostile publisher
    causes one (an old version or a gap is ordinary). Audited; nothing changes."""
    installed: HeldSnapshot | None = None


@dataclass(frozen=True)
class SnapshotCheck:
    """What the snapshots say about one voter's tag: `hit` (may have voted), and the version checked (0: none)."""

    hit: bool
    version: int
    committed_until: datetime | None


class VotedSnapshots:
    """The snapshots held, one per scope the district may publish (its own district, the nation). Used only on the
    loop's thread."""

    def __init__(self, district: str, center_key: OKPKey, folder: Path | None = None) -> None:
        """`folder`: where each part taken is kept as it came (signed), so that a terminal restarted while the
        broker is away still holds its snapshot; read back, and verified again, at once."""
        self._key = center_key
        self._states = {scope: SnapshotState(scope) for scope in (district, NATION_SCOPE)}
        self._stash: list[SnapshotChunk] = []
        self._folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._reload(folder)

    def take(self, payload: bytes) -> ChunkOutcome:
        """Verify and take one chunk as it came off the wire; an empty payload (a retained chunk cleared by the
        district) is ignored."""
        if not payload:
            return ChunkOutcome(ChunkTaken.REPEATED)
        chunk = open_snapshot_chunk(payload, self._key)
        if isinstance(chunk, ProtocolError):
            return ChunkOutcome(None, str(chunk))
        outcome = self._take(chunk)
        if self._folder is not None and outcome.taken in {ChunkTaken.INSTALLED, ChunkTaken.PENDING,
                                                          ChunkTaken.STASHED}:
            self._keep(self._folder, chunk, payload, outcome.taken is ChunkTaken.INSTALLED)
        return outcome

    def _keep(self, folder: Path, chunk: SnapshotChunk, payload: bytes, installed: bool) -> None:
        """The part on disk in one rename; once a FULL version is installed, the parts of the versions before it
        go (the deltas after a FULL need it and it alone)."""
        m = chunk.manifest
        path = folder / f"{m.scope}-{m.version:010d}-{m.part:04d}{CHUNK_SUFFIX}"
        staging = path.with_suffix(".new")
        staging.write_bytes(payload)
        staging.replace(path)
        if installed and m.chunk_kind is ChunkKind.FULL:
            for kept in folder.glob(f"{m.scope}-*{CHUNK_SUFFIX}"):
                version = kept.name.removesuffix(CHUNK_SUFFIX).split("-")[-2]
                if not version.isdigit() or int(version) < m.version:
                    kept.unlink(missing_ok=True)

    def _reload(self, folder: Path) -> None:
        """Every part kept, oldest version first, taken again as if it came off the wire; one that no longer
        verifies (altered on disk, or the district's key replaced) is removed."""
        for path in sorted(folder.glob(f"*{CHUNK_SUFFIX}")):
            try:
                data = path.read_bytes()
            except OSError as exc:  # a part the disk cannot give back: the terminal starts without it
                log.error("a kept snapshot part %s cannot be read (%s)", path.name, exc)
                continue
            chunk = open_snapshot_chunk(data, self._key)
            if isinstance(chunk, ProtocolError) or self._take(chunk).refusal is not None:
                log.error("a kept snapshot part %s no longer holds; removed", path.name)
                path.unlink(missing_ok=True)

    def check(self, tag64: int) -> SnapshotCheck:
        """The voter's tag against every snapshot held; the version named is the newest held."""
        held = [state for state in self._states.values() if state.held is not None]
        if not held:
            return SnapshotCheck(False, 0, None)
        hit = any(state.may_have_voted(tag64) for state in held)
        newest = max((state.held for state in held if state.held is not None), key=lambda h: h.committed_until)
        return SnapshotCheck(hit, newest.version, newest.committed_until)

    def held(self) -> tuple[HeldSnapshot, ...]:
        return tuple(state.held for state in self._states.values() if state.held is not None)

    def _take(self, chunk: SnapshotChunk) -> ChunkOutcome:
        state = self._states.get(chunk.manifest.scope)
        if state is None:
            return ChunkOutcome(None, SnapshotRefusal.FOREIGN_SCOPE.value)
        taken = receive(state, chunk)
        if taken is SnapshotRefusal.OLD_VERSION:
            return ChunkOutcome(ChunkTaken.REPEATED)
        if taken is SnapshotRefusal.GAP:
            self._keep_aside(chunk)
            return ChunkOutcome(ChunkTaken.STASHED)
        if isinstance(taken, SnapshotRefusal):
            return ChunkOutcome(None, taken.value)
        if taken is state:
            return ChunkOutcome(ChunkTaken.REPEATED)
        self._states[chunk.manifest.scope] = taken
        if taken.held is state.held:
            return ChunkOutcome(ChunkTaken.PENDING)
        return ChunkOutcome(ChunkTaken.INSTALLED, installed=self._replay_stash(chunk.manifest.scope))

    def _replay_stash(self, scope: str) -> HeldSnapshot | None:
        """Take again the deltas kept aside, oldest version first, until none follows what is held."""
        progressed = True
        while progressed:
            progressed = False
            for chunk in sorted(self._stash, key=lambda c: (c.manifest.version, c.manifest.part)):
                if chunk.manifest.scope != scope:
                    continue
                self._stash.remove(chunk)
                taken = receive(self._states[scope], chunk)
                if taken is SnapshotRefusal.GAP:
                    self._stash.append(chunk)
                elif isinstance(taken, SnapshotState):
                    progressed = progressed or taken.held is not self._states[scope].held
                    self._states[scope] = taken
        return self._states[scope].held

    def _keep_aside(self, chunk: SnapshotChunk) -> None:
        if any(kept.manifest == chunk.manifest for kept in self._stash):
            return
        self._stash.append(chunk)
        while sum(len(kept.body) for kept in self._stash) > MAX_STASHED_BYTES:
            self._stash.remove(min(self._stash, key=lambda c: c.manifest.version))
