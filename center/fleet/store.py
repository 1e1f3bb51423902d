"""The fleet store's interface and what both engines share: rows to records, the audit chain, where it lives."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from center.fleet.alerts import Alert, AuditDetail, AuditKind
from center.fleet.model import HourCounts, TerminalRecord
from center.fleet.rules import Condition, Finding, Subject
from center.storage import PostgresSettings
from protocol.codec import ProtocolError, decode_health, decode_status, encode_telemetry, format_time
from protocol.telemetry import HealthReport, TerminalStatus

FleetLocation = Path | PostgresSettings
"""An SQLite file of its own, or the PostgreSQL database the registry uses (tables of their own)."""
DEFAULT_KEEP = 240
"""Health reports kept per terminal: two hours at one every 30 s."""
GENESIS = "0" * 64


class FleetStoreError(Exception):
    """The store could not be reached or refused a write; the message that needed it is counted and dropped."""


@dataclass(frozen=True)
class StoredFleet:
    records: dict[str, TerminalRecord]
    hours: list[HourCounts]
    alerts: list[Alert]
    """The live (unclosed) alerts."""


@dataclass(frozen=True)
class Save:
    """One message the intake applied, to be kept: the terminal's new record and, for a health report, the report
    and when the center heard it (`at`)."""

    record: TerminalRecord
    report: HealthReport | None
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    kind: AuditKind
    detail: str
    """Canonical JSON of ids, status values and counts only."""
    digest: str


class FleetStore(Protocol):
    def load(self) -> StoredFleet: ...

    def save(self, saves: Sequence[Save]) -> None:
        """In order, in one transaction: keep each terminal's latest record and, with a report, add it to its
        history (pruned to the newest `keep`) and to the hour's counters."""

    def history(self, terminal: str, limit: int) -> list[tuple[datetime, HealthReport]]: ...

    def alerts(self, closed_since: datetime) -> list[Alert]:
        """The live alerts and those closed at or after `closed_since`, newest first."""

    def change_alerts(self, to_open: Sequence[Finding], to_close: Sequence[Alert], at: datetime
                      ) -> tuple[list[Alert], list[Alert]]:
        """Open an alert for each finding and close each alert, with their audit entries, in one transaction (a
        burst of 500 printers out of paper is one commit, not 500); the alerts opened and closed, in order."""

    def acknowledge(self, alert_id: int, staff: str, at: datetime) -> Alert | None:
        """None unless the alert is open and not yet acknowledged."""

    def audit(self, kind: AuditKind, detail: AuditDetail, at: datetime) -> None: ...

    def audit_entries(self) -> list[AuditEntry]: ...

    def close(self) -> None: ...


def open_fleet_store(location: FleetLocation, district: str, keep: int = DEFAULT_KEEP) -> FleetStore:
    """Open (and make the tables of) the fleet store where `location` says."""
    if isinstance(location, PostgresSettings):
        from center.fleet.postgres_store import PostgresFleetStore

        return PostgresFleetStore(location, district, keep)
    from center.fleet.sqlite_store import SqliteFleetStore

    return SqliteFleetStore(location, district, keep)


def beside_registry(registry: Path) -> Path:
    """The embedded fleet store's file: next to the registry's SQLite file."""
    return registry.with_name(f"{registry.stem}.fleet.sqlite")


def canonical(detail: AuditDetail) -> str:
    return json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_digest(previous: str, seq: int, at: datetime, kind: AuditKind, detail: str) -> str:
    """Each entry's digest covers the previous one's, so no entry can be changed, dropped or reordered unseen."""
    line = f"{previous}\n{seq}|{format_time(at)}|{kind.value}|{detail}"
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def broken_at(entries: Sequence[AuditEntry]) -> int | None:
    """The seq of the first entry that does not follow from the one before (None: the chain holds)."""
    previous = GENESIS
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected or entry.digest != chain_digest(previous, entry.seq, entry.at, entry.kind,
                                                                 entry.detail):
            return entry.seq
        previous = entry.digest
    return None


class PayloadCache:
    """The last few messages' stored JSON by identity: a record keeps its status for a whole birth and its report
    goes in twice (the latest and the history), so each is encoded once. Used by the one writing thread."""

    def __init__(self, size: int = 8192) -> None:
        self._size = size
        self._known: dict[int, tuple[TerminalStatus | HealthReport, str]] = {}

    def of(self, message: TerminalStatus | HealthReport | None) -> str | None:
        if message is None:
            return None
        known = self._known.get(id(message))
        if known is not None and known[0] is message:
            return known[1]
        if len(self._known) >= self._size:
            self._known.clear()
        text = encode_telemetry(message).decode("utf-8")
        self._known[id(message)] = (message, text)
        return text


def status_from(text: str | None) -> TerminalStatus | None:
    if text is None:
        return None
    decoded = decode_status(text.encode("utf-8"))
    if isinstance(decoded, ProtocolError):
        raise FleetStoreError(f"a stored status does not read: {decoded}")
    return decoded


def report_from(text: str | None) -> HealthReport | None:
    if text is None:
        return None
    decoded = decode_health(text.encode("utf-8"))
    if isinstance(decoded, ProtocolError):
        raise FleetStoreError(f"a stored report does not read: {decoded}")
    return decoded


ALERT_COLUMNS = "id, branch, terminal, condition, detail, opened_at, acknowledged_at, acknowledged_by, closed_at"


def stored_time(value: str | datetime | None) -> datetime | None:
    """A stored time: ISO text in SQLite, already a time from PostgreSQL."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def stamp(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def alert_of(row: tuple[Any, ...]) -> Alert:
    """An alert from its row (`ALERT_COLUMNS`), either engine's."""
    alert_id, branch, terminal, condition, detail, opened, acked, acked_by, closed = row
    opened_at = stored_time(opened)
    assert opened_at is not None, "an alert row without its opening time"
    return Alert(int(alert_id), Subject(branch, terminal), Condition(condition), detail, opened_at, stored_time(acked),
                 acked_by, stored_time(closed))


def alert_detail(alert: Alert) -> AuditDetail:
    return {"alert": alert.id, "branch": alert.subject.branch, "terminal": alert.subject.terminal or None,
            "condition": alert.condition.value, "detail": alert.detail}
