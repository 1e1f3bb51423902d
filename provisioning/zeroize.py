"""After the election: wipe the device's private keys, the officials' PIN hashes, the journal's HMAC secret and
personal data in the journal."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from protocol.messages import RequestKind
from provisioning.device import PERMIT_KEY, SIGNING_KEY, TLS_KEY
from provisioning.pins import PINS_FILE
from provisioning.refusals import Problem, ProvisioningRefusal

RECORD = "zeroized.json"


@dataclass(frozen=True)
class Zeroized:
    """What was wiped. The audit log, counters and public certificates stay, for the record."""

    wiped_files: tuple[Path, ...]
    scrubbed_rows: int
    forced: bool


def close_acknowledged(journal: Path) -> bool | ProvisioningRefusal:
    """True when the journal holds a `close` request the center has answered."""
    return _outbox_holds(journal, RequestKind.CLOSE, answered=True)


def minutes_pending(journal: Path) -> bool | ProvisioningRefusal:
    """True when the journal holds minutes whose request the district has not answered yet: wiping the signing
    key then would leave them unsendable."""
    return _outbox_holds(journal, RequestKind.MINUTES, answered=False)


def _outbox_holds(journal: Path, kind: RequestKind, *, answered: bool) -> bool | ProvisioningRefusal:
    if not journal.is_file():
        return ProvisioningRefusal(Problem.NO_JOURNAL, str(journal))
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        row = conn.execute(f"SELECT count(*) FROM outbox WHERE kind = ? AND acked_at IS {'NOT ' if answered else ''}NULL",
                           (kind.value,)).fetchone()
    except sqlite3.DatabaseError as exc:
        return ProvisioningRefusal(Problem.NO_JOURNAL, f"{journal}: {exc}")
    finally:
        conn.close()
    return bool(row[0])


def zeroize(folder: Path, journal: Path, voter_key: Path, now: datetime, *, force: bool
            ) -> Zeroized | ProvisioningRefusal:
    """Refuse until the closing report is acknowledged and while recorded minutes await the district, unless
    forced; then overwrite and delete the keys, the officials' PIN file and the HMAC secret, and clear voter hashes
    and sealed requests from the journal (secure_delete, then VACUUM)."""
    acknowledged = close_acknowledged(journal)
    if not force:
        if isinstance(acknowledged, ProvisioningRefusal):
            return acknowledged
        if not acknowledged:
            return ProvisioningRefusal(Problem.CLOSE_NOT_ACKNOWLEDGED, str(journal))
        if minutes_pending(journal) is True:
            return ProvisioningRefusal(Problem.MINUTES_NOT_ACKNOWLEDGED, str(journal))
    wiped = tuple(path for path in (folder / TLS_KEY, folder / SIGNING_KEY, folder / PERMIT_KEY, folder / PINS_FILE,
                                    voter_key) if _shred(path))
    scrubbed = _scrub_journal(journal) if journal.is_file() else 0
    record = {"at": now.isoformat(), "forced": force, "close_acknowledged": acknowledged is True,
              "wiped": [str(path) for path in wiped], "scrubbed_rows": scrubbed}
    if folder.is_dir():
        (folder / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Zeroized(wiped, scrubbed, force)


def _shred(path: Path) -> bool:
    """Overwrite with random bytes, sync, delete. On flash storage the overwrite is best effort: the real
    protection is that the keys are useless once their certificate is revoked and has expired."""
    if not path.is_file():
        return False
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(secrets.token_bytes(max(size, 1)))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    return True


def _scrub_journal(journal: Path) -> int:
    conn = sqlite3.connect(journal)
    try:
        conn.execute("PRAGMA secure_delete=ON")
        with conn:
            hashes = conn.execute("UPDATE transactions SET voter_hash = '' WHERE voter_hash != ''").rowcount
            sealed = conn.execute("UPDATE outbox SET payload = x'' WHERE length(payload) > 0").rowcount
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        return hashes + sealed
    finally:
        conn.close()
