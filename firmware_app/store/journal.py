"""The journal (SQLite, WAL, synchronous=FULL): every state change is written here before what it permits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from firmware_app.flow.effects import Counter
from firmware_app.flow.events import BACKGROUND_STAGES, CLOSED_STAGES, MinutesStage, OpenTx, TxStage
from firmware_app.flow.states import PollsPhase
from firmware_app.store import audit as audit_log
from firmware_app.store import minutes as minutes_book
from firmware_app.store import offline as offline_book
from firmware_app.store.minutes import RecordedMinutes
from firmware_app.store.offline import OfflineSlip, PermitEventKind
from protocol.codec import (
    ProtocolError,
    decode_counting_instructions,
    encode_counting_instructions,
    format_time,
)
from protocol.messages import (
    CloseCounts,
    CountingInstructions,
    DocumentKind,
    MinutesOutcome,
    OfflineOutcome,
    RequestKind,
)
from protocol.minutes import Minutes
from protocol.permit import ActivationPath, PermitLedger


@dataclass(frozen=True)
class OutboxEntry:
    """A request not yet answered: re-sent byte for byte, so its request and transaction ids stay the same."""

    request_id: str
    tx_id: str
    kind: RequestKind
    payload: bytes


@dataclass(frozen=True)
class TxRecord:
    tx_id: str
    document: DocumentKind
    voter_hash: str
    stage: TxStage
    inquiry_code: str | None
    serial: int | None
    reprint_next: bool
    training: bool


class Journal:
    """One terminal's journal. Used from the event loop's thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        self.db = Database(conn)
        self._create()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.db.close()

    def _create(self) -> None:
        db = self.db
        db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db.table("transactions").create(
            {"tx_id": str, "document": str, "voter_hash": str, "stage": str, "inquiry_code": str,
             "serial": int, "reprint_next": int, "training": int, "created_at": str, "updated_at": str},
            pk="tx_id", not_null={"document", "voter_hash", "stage", "reprint_next", "training"},
            if_not_exists=True,
        )
        db.table("tx_history").create({"id": int, "tx_id": str, "stage": str, "at": str}, pk="id",
                                foreign_keys=[("tx_id", "transactions", "tx_id")], if_not_exists=True)
        db.table("outbox").create(
            {"request_id": str, "tx_id": str, "kind": str, "payload": bytes, "created_at": str,
             "acked_at": str, "attempts": int},
            pk="request_id", if_not_exists=True,
        )
        db.table("counters").create({"name": str, "value": int}, pk="name", if_not_exists=True)
        db.executescript(audit_log.SCHEMA)
        db.executescript(minutes_book.SCHEMA)
        db.executescript(offline_book.SCHEMA)
        self.conn.execute("CREATE INDEX IF NOT EXISTS outbox_open ON outbox (acked_at)")
        self.conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS one_request_per_kind ON outbox (tx_id, kind)")

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One SQL transaction; committed (and fsynced) when the block ends."""
        with self.db.atomic():
            yield

    # --- polls and meta ------------------------------------------------------------------------

    def polls_phase(self) -> PollsPhase:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'polls'").fetchone()
        return PollsPhase(row[0]) if row else PollsPhase.NOT_OPEN

    def set_polls(self, phase: PollsPhase) -> None:
        self.db.table("meta").upsert({"key": "polls", "value": phase.value}, pk="key")

    def closing_time(self) -> datetime | None:
        """The closing time as last extended by the center, if it ever was."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'closes_at'").fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def set_closing_time(self, until: datetime) -> None:
        self.db.table("meta").upsert({"key": "closes_at", "value": until.isoformat()}, pk="key")

    def branch_committed(self) -> int | None:
        """The slips the center held committed for the branch when it acknowledged the closing (None: not yet)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'branch_committed'").fetchone()
        return int(row[0]) if row else None

    def set_branch_committed(self, count: int) -> None:
        self.db.table("meta").upsert({"key": "branch_committed", "value": str(count)}, pk="key")

    def instructions(self) -> CountingInstructions | None:
        """The newest counting instructions the flow accepted from the district."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'instructions'").fetchone()
        if row is None:
            return None
        decoded = decode_counting_instructions(row[0].encode())
        if isinstance(decoded, ProtocolError):
            raise ValueError(f"the journal's counting instructions do not parse: {decoded}")
        return decoded

    def set_instructions(self, instructions: CountingInstructions) -> None:
        value = encode_counting_instructions(instructions).decode()
        self.db.table("meta").upsert({"key": "instructions", "value": value}, pk="key")

    # --- the minutes ---------------------------------------------------------------------------

    def record_minutes(self, tx_id: str, minutes: Minutes, at: datetime) -> RecordedMinutes:
        return minutes_book.record(self.conn, tx_id, minutes, at)

    def minutes(self) -> RecordedMinutes | None:
        return minutes_book.held(self.conn)

    def set_minutes_outcome(self, outcome: MinutesOutcome, at: datetime) -> bool:
        return minutes_book.answered(self.conn, outcome, at)

    # --- OFFLINE slips -------------------------------------------------------------------------

    def record_offline_slip(self, slip: OfflineSlip, at: datetime) -> None:
        offline_book.record(self.conn, slip, at)

    def set_offline_outcome(self, tx_id: str, outcome: OfflineOutcome, at: datetime) -> bool:
        return offline_book.reconciled(self.conn, tx_id, outcome, at)

    def offline_slips(self) -> list[OfflineSlip]:
        return offline_book.slips(self.conn)

    def record_peer_line(self, tx_id: str, line: bytes) -> None:
        offline_book.record_peer_line(self.conn, tx_id, line)

    def peer_line(self, tx_id: str) -> bytes | None:
        return offline_book.peer_line(self.conn, tx_id)

    def offline_slip(self, tx_id: str) -> OfflineSlip | None:
        return next((slip for slip in self.offline_slips() if slip.tx_id == tx_id), None)

    def record_permit(self, permit_id: str, signed: bytes, at: datetime) -> None:
        offline_book.record_permit(self.conn, permit_id, signed, at)

    def permit_event(self, permit_id: str, kind: PermitEventKind, at: datetime, *, activation: int | None = None,
                     path: ActivationPath | None = None, ended_at: datetime | None = None) -> None:
        offline_book.permit_event(self.conn, permit_id, kind, at, activation=activation, path=path,
                                  ended_at=ended_at)

    def permits(self) -> list[tuple[bytes, PermitLedger]]:
        return offline_book.permits(self.conn)

    def voter_has_slip(self, voter_hash: str) -> bool:
        return offline_book.voter_has_slip(self.conn, voter_hash)

    def minutes_stage(self) -> MinutesStage | None:
        """Where the recorded minutes are, for the flow at start-up (None: none recorded yet)."""
        held = self.minutes()
        if held is None:
            return None
        if held.outcome is None:
            return MinutesStage.SENT
        return MinutesStage.RECORDED if held.outcome is MinutesOutcome.RECORDED else MinutesStage.CONFLICT

    # --- transactions --------------------------------------------------------------------------

    def add_transaction(self, tx_id: str, document: DocumentKind, voter_hash: str, training: bool,
                        at: datetime) -> None:
        stamp = format_time(at)
        self.db.table("transactions").insert(
            {"tx_id": tx_id, "document": document.value, "voter_hash": voter_hash,
             "stage": TxStage.RESERVE_PENDING.value, "inquiry_code": None, "serial": None,
             "reprint_next": 0, "training": int(training), "created_at": stamp, "updated_at": stamp}
        )
        self._history(tx_id, TxStage.RESERVE_PENDING, stamp)

    def set_stage(self, tx_id: str, stage: TxStage, at: datetime, *, inquiry_code: str | None = None,
                  paper_moved: bool = False) -> None:
        """Move a transaction on; closed stages are final, so a late acknowledgement cannot reopen one."""
        current = self.transaction(tx_id)
        if current is None or current.stage in CLOSED_STAGES:
            return
        stamp = format_time(at)
        changes: dict[str, Any] = {"stage": stage.value, "updated_at": stamp}
        if inquiry_code is not None:
            changes["inquiry_code"] = inquiry_code
        if paper_moved or stage is TxStage.COMMIT_PENDING:
            changes["reprint_next"] = 1
        self.db.table("transactions").update(tx_id, changes)
        self._history(tx_id, stage, stamp)

    def assign_serial(self, tx_id: str) -> int:
        """The slip's serial number: given once per transaction, kept for reprints."""
        record = self.transaction(tx_id)
        if record is not None and record.serial is not None:
            return record.serial
        serial = self.bump("slip_serial")
        self.db.table("transactions").update(tx_id, {"serial": serial})
        return serial

    def _history(self, tx_id: str, stage: TxStage, stamp: str) -> None:
        self.db.table("tx_history").insert({"tx_id": tx_id, "stage": stage.value, "at": stamp})

    def transaction(self, tx_id: str) -> TxRecord | None:
        row = self.conn.execute(
            "SELECT tx_id, document, voter_hash, stage, inquiry_code, serial, reprint_next, training "
            "FROM transactions WHERE tx_id = ?", (tx_id,)
        ).fetchone()
        return _tx_record(row) if row else None

    def transactions(self) -> list[TxRecord]:
        rows = self.conn.execute(
            "SELECT tx_id, document, voter_hash, stage, inquiry_code, serial, reprint_next, training "
            "FROM transactions ORDER BY created_at"
        ).fetchall()
        return [_tx_record(row) for row in rows]

    def open_foreground(self) -> OpenTx | None:
        """The one transaction the operator may have to settle after a restart (at most one exists)."""
        waiting = CLOSED_STAGES | BACKGROUND_STAGES
        open_ones = [tx for tx in self.transactions() if tx.stage not in waiting]
        if not open_ones:
            return None
        if len(open_ones) > 1:
            raise RuntimeError(f"journal holds {len(open_ones)} foreground transactions; the flow allows one")
        tx = open_ones[0]
        offline = self.conn.execute("SELECT 1 FROM offline_slips WHERE tx_id = ?", (tx.tx_id,)).fetchone()
        return OpenTx(tx.tx_id, tx.document, tx.stage, tx.inquiry_code, tx.reprint_next, offline=offline is not None)

    # --- outbox --------------------------------------------------------------------------------

    def enqueue(self, entry: OutboxEntry, at: datetime) -> None:
        self.db.table("outbox").insert(
            {"request_id": entry.request_id, "tx_id": entry.tx_id, "kind": entry.kind.value,
             "payload": entry.payload, "created_at": format_time(at), "acked_at": None, "attempts": 0}
        )

    def outbox_entry(self, tx_id: str, kind: RequestKind) -> OutboxEntry | None:
        row = self.conn.execute(
            "SELECT request_id, tx_id, kind, payload FROM outbox WHERE tx_id = ? AND kind = ?",
            (tx_id, kind.value),
        ).fetchone()
        return OutboxEntry(row[0], row[1], RequestKind(row[2]), bytes(row[3])) if row else None

    def pending(self, request_id: str) -> OutboxEntry | None:
        """The unanswered request with this id; None for unknown or already answered (a replay)."""
        row = self.conn.execute(
            "SELECT request_id, tx_id, kind, payload FROM outbox WHERE request_id = ? AND acked_at IS NULL",
            (request_id,),
        ).fetchone()
        return OutboxEntry(row[0], row[1], RequestKind(row[2]), bytes(row[3])) if row else None

    def outbox_backlog(self) -> int:
        """Requests not yet answered."""
        return int(self.conn.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0])

    def alarm_counts(self) -> dict[str, int]:
        """Alarms audited so far by kind, and `fault` for the bugs the loop met (read once, at start)."""
        rows = self.conn.execute(
            "SELECT CASE kind WHEN 'alarm' THEN json_extract(detail, '$.alarm') ELSE kind END, count(*) FROM audit "
            "WHERE kind IN ('alarm', 'fault') GROUP BY 1").fetchall()
        return {str(kind): int(count) for kind, count in rows if kind is not None}

    def unanswered(self) -> list[OutboxEntry]:
        rows = self.conn.execute(
            "SELECT request_id, tx_id, kind, payload FROM outbox WHERE acked_at IS NULL ORDER BY created_at"
        ).fetchall()
        return [OutboxEntry(r[0], r[1], RequestKind(r[2]), bytes(r[3])) for r in rows]

    def mark_answered(self, request_id: str, at: datetime) -> None:
        self.db.table("outbox").update(request_id, {"acked_at": format_time(at)})

    def note_attempt(self, request_id: str) -> None:
        self.conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE request_id = ?", (request_id,))

    # --- counters and audit --------------------------------------------------------------------

    def bump(self, name: str) -> int:
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,)
        )
        row = self.conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def counts(self) -> dict[Counter, int]:
        rows = dict(self.conn.execute("SELECT name, value FROM counters").fetchall())
        return {counter: int(rows.get(counter.value, 0)) for counter in Counter}

    def close_counts(self) -> CloseCounts:
        return CloseCounts(**{counter.value: value for counter, value in self.counts().items()})

    def audit(self, at: datetime, kind: str, detail: dict[str, Any]) -> None:
        audit_log.append(self.conn, format_time(at), kind, detail)

    def audit_entries(self) -> list[audit_log.AuditEntry]:
        return audit_log.entries(self.conn)


def _tx_record(row: tuple[Any, ...]) -> TxRecord:
    return TxRecord(row[0], DocumentKind(row[1]), row[2], TxStage(row[3]), row[4], row[5], bool(row[6]),
                    bool(row[7]))
