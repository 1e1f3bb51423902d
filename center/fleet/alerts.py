"""Alerts' lives: opened when a condition appears, acknowledged by staff, closed when it clears (pure)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from center.fleet.rules import ALERTING, Condition, Finding, Subject


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AuditKind(enum.StrEnum):
    """What the fleet's hash-chained audit log records."""

    ALERT_OPENED = "alert_opened"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ALERT_CLOSED = "alert_closed"
    STAFF_SIGNED_IN = "staff_signed_in"
    STAFF_SIGN_IN_REFUSED = "staff_sign_in_refused"
    STAFF_SIGNED_OUT = "staff_signed_out"
    REQUEST_REFUSED = "request_refused"


AuditDetail = Mapping[str, str | int | None]
"""An audit entry's detail: ids, status values and counts only."""


@dataclass(frozen=True)
class Alert:
    """One alert from opening to closing; `acknowledged_by` is a staff account's id."""

    id: int
    subject: Subject
    condition: Condition
    detail: str
    opened_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    closed_at: datetime | None = None

    @property
    def state(self) -> AlertState:
        if self.closed_at is not None:
            return AlertState.CLOSED
        return AlertState.OPEN if self.acknowledged_at is None else AlertState.ACKNOWLEDGED

    @property
    def key(self) -> tuple[Subject, Condition]:
        return self.subject, self.condition


@dataclass(frozen=True)
class Reconciled:
    """What to do so that the live alerts are exactly the alerting findings."""

    to_open: tuple[Finding, ...]
    to_close: tuple[Alert, ...]

    @property
    def empty(self) -> bool:
        return not self.to_open and not self.to_close


def reconcile(live: Iterable[Alert], found: Iterable[Finding]) -> Reconciled:
    """Open an alert for each alerting finding that has no live alert, close each live alert whose condition
    has cleared; an alert that is still found stays as it is (acknowledged or not)."""
    alive = {alert.key: alert for alert in live if alert.state is not AlertState.CLOSED}
    wanted = {f.key: f for f in found if f.condition in ALERTING}
    return Reconciled(tuple(f for key, f in sorted(wanted.items()) if key not in alive),
                      tuple(a for key, a in sorted(alive.items()) if key not in wanted))


def acknowledgeable(alert: Alert) -> bool:
    return alert.state is AlertState.OPEN
