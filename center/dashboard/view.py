"""The dashboard's snapshot as the page shows it: plain JSON, Persian, right to left, Jalali, Persian digits."""

from __future__ import annotations

from typing import Any

from center.dashboard import texts
from center.fleet.alerts import Alert, AlertState
from center.fleet.figures import Opening
from center.fleet.model import Outcome
from center.fleet.rules import SEVERITY, Finding, Subject
from center.fleet.snapshot import BranchView, FleetSnapshot, TerminalView

Json = dict[str, Any]
CHART_HOURS = 24


def snapshot_view(snapshot: FleetSnapshot) -> Json:
    """Everything the page draws, in the order it draws it; ids and status values only, never a voter's."""
    return {
        "district": snapshot.district,
        "at": texts.jalali(snapshot.at),
        "totals": _totals(snapshot),
        "branches": [_branch(branch) for branch in snapshot.branches],
        "alerts": [_alert(alert) for alert in snapshot.alerts],
        "openings": [{"branch": o.branch, "opening": o.opening.value, "text": texts.OPENINGS[o.opening],
                      "at": texts.clock(o.opened_at)}
                     for o in snapshot.openings if o.opening in (Opening.LATE, Opening.NOT_OPENED)],
        "hours": [{"hour": texts.hour_label(h.hour), "issued": h.issued, "issued_text": texts.digits(h.issued),
                   "duplicates": h.duplicates_refused, "duplicates_text": texts.digits(h.duplicates_refused)}
                  for h in snapshot.hours[-CHART_HOURS:]],
        "intake": _intake(snapshot),
    }


def _totals(snapshot: FleetSnapshot) -> list[Json]:
    totals = snapshot.totals
    live = [a for a in snapshot.alerts if a.state is not AlertState.CLOSED]
    rows = [
        ("terminals", "دستگاه‌ها", totals.terminals), ("online", "متصل", totals.online),
        ("offline", "قطع", totals.offline + totals.never_heard), ("branches", "شعبه‌ها", totals.branches),
        ("opened", "شعبهٔ باز", totals.openings[Opening.ON_TIME] + totals.openings[Opening.LATE]),
        ("late", "باز با تأخیر", totals.openings[Opening.LATE]),
        ("not_opened", "باز نشده", totals.openings[Opening.NOT_OPENED]),
        ("alerts", "هشدار باز", len(live)),
        *((name, texts.COUNTERS[name], value) for name, value in totals.counters.items()),
    ]
    return [{"key": key, "label": label, "value": value, "text": texts.digits(value)} for key, label, value in rows]


def _branch(branch: BranchView) -> Json:
    return {"branch": branch.branch, "colour": branch.colour.value, "colour_text": texts.COLOURS[branch.colour],
            "reasons": [texts.finding(f) for f in branch.findings],
            "terminals": [_terminal(view) for view in branch.terminals]}


def _terminal(view: TerminalView) -> Json:
    record, report = view.record, view.record.health
    return {
        "terminal": record.terminal, "colour": view.colour.value, "colour_text": texts.COLOURS[view.colour],
        "reasons": [texts.finding(f) for f in view.findings],
        "conditions": [f.condition.value for f in view.findings],
        "heard": texts.clock(record.heard_at),
        "issued": texts.digits(report.counters.issued) if report is not None else "—",
        "software": report.software if report is not None else "—",
    }


def _alert(alert: Alert) -> Json:
    subject: Subject = alert.subject
    found = Finding(subject, alert.condition, alert.detail)
    return {
        "id": alert.id, "branch": subject.branch, "terminal": subject.terminal or None,
        "condition": alert.condition.value, "colour": SEVERITY[alert.condition].value,
        "text": texts.finding(found), "state": alert.state.value, "state_text": texts.ALERT_STATES[alert.state],
        "opened_at": texts.clock(alert.opened_at), "closed_at": texts.clock(alert.closed_at),
        "acknowledged_by": alert.acknowledged_by, "acknowledgeable": alert.state is AlertState.OPEN,
    }


def _intake(snapshot: FleetSnapshot) -> Json:
    counts = snapshot.intake
    return {
        "applied": texts.digits(counts.outcomes.get(Outcome.APPLIED, 0)),
        "stale": texts.digits(counts.outcomes.get(Outcome.STALE, 0)),
        "unsaved": counts.unsaved, "unsaved_text": texts.digits(counts.unsaved),
        "refused": [{"reason": reason.value, "text": texts.REFUSALS[reason], "count": texts.digits(count)}
                    for reason, count in sorted(counts.refused.items()) if count],
    }
