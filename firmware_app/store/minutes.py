"""The journal's branch minutes: the one agreed document, byte for byte, its hash, and the district's answer."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from protocol.codec import ProtocolError, decode_minutes, encode_minutes, format_time, minutes_hash
from protocol.messages import MinutesOutcome
from protocol.minutes import Minutes

SCHEMA = """
CREATE TABLE IF NOT EXISTS minutes (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    tx_id TEXT NOT NULL,
    document BLOB NOT NULL,
    hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    outcome TEXT,
    answered_at TEXT
);
CREATE TRIGGER IF NOT EXISTS minutes_kept BEFORE UPDATE OF tx_id, document, hash, recorded_at ON minutes
BEGIN SELECT RAISE(ABORT, 'recorded minutes are never replaced'); END;
CREATE TRIGGER IF NOT EXISTS minutes_not_deleted BEFORE DELETE ON minutes
BEGIN SELECT RAISE(ABORT, 'recorded minutes are never deleted'); END;
"""
"""One row at most: a terminal records its minutes once, and neither they nor their hash ever change."""


class MinutesUnreadableError(Exception):
    """The journal's minutes do not parse (a bug or a damaged journal): nothing is printed or sent of them."""


@dataclass(frozen=True)
class RecordedMinutes:
    """The minutes as journaled: the request's transaction id, the canonical document, its hash, the answer."""

    tx_id: str
    document: bytes
    minutes_hash: str
    outcome: MinutesOutcome | None

    @property
    def minutes(self) -> Minutes:
        decoded = decode_minutes(self.document)
        if isinstance(decoded, ProtocolError):
            raise MinutesUnreadableError(str(decoded))
        return decoded


def record(conn: sqlite3.Connection, tx_id: str, minutes: Minutes, at: datetime) -> RecordedMinutes:
    """Inside the caller's transaction; a second set of minutes is refused by the table itself."""
    document = encode_minutes(minutes)
    digest = minutes_hash(minutes)
    conn.execute("INSERT INTO minutes (one, tx_id, document, hash, recorded_at) VALUES (1, ?, ?, ?, ?)",
                 (tx_id, document, digest, format_time(at)))
    return RecordedMinutes(tx_id, document, digest, None)


def held(conn: sqlite3.Connection) -> RecordedMinutes | None:
    row = conn.execute("SELECT tx_id, document, hash, outcome FROM minutes WHERE one = 1").fetchone()
    if row is None:
        return None
    return RecordedMinutes(row[0], bytes(row[1]), row[2], MinutesOutcome(row[3]) if row[3] is not None else None)


def answered(conn: sqlite3.Connection, outcome: MinutesOutcome, at: datetime) -> bool:
    """The district's answer, kept once (a later answer leaves the first); False if no minutes are held."""
    done = conn.execute("UPDATE minutes SET outcome = coalesce(outcome, ?), answered_at = coalesce(answered_at, ?) "
                        "WHERE one = 1", (outcome.value, format_time(at)))
    return done.rowcount == 1
