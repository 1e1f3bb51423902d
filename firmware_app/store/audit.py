"""The append-only, hash-chained audit log: each entry's hash covers the previous hash and its own fields."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    kind: str
    detail: str
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, seq: int, at: str, kind: str, detail: str) -> str:
    material = json.dumps([prev_hash, seq, at, kind, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def append(conn: sqlite3.Connection, at: str, kind: str, detail: dict[str, Any]) -> AuditEntry:
    """Append inside the caller's SQL transaction, so the entry commits with the change it records."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = entry_hash(prev, seq, at, kind, text)
    conn.execute(
        "INSERT INTO audit (seq, at, kind, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, at, kind, text, prev, digest),
    )
    return AuditEntry(seq, at, kind, text, prev, digest)


def entries(conn: sqlite3.Connection) -> list[AuditEntry]:
    rows = conn.execute("SELECT seq, at, kind, detail, prev_hash, hash FROM audit ORDER BY seq").fetchall()
    return [AuditEntry(*row) for row in rows]


def first_broken(chain: list[AuditEntry]) -> int | None:
    """The sequence number of the first entry that does not follow from its predecessor, or None."""
    prev = GENESIS
    for expected_seq, entry in enumerate(chain, start=1):
        if entry.seq != expected_seq or entry.prev_hash != prev:
            return entry.seq
        if entry_hash(prev, entry.seq, entry.at, entry.kind, entry.detail) != entry.hash:
            return entry.seq
        prev = entry.hash
    return None
