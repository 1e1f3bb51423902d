"""The district's OFFLINE slips as the dashboard shows them: reconciled per branch, and every double vote (Persian).

Built from the registry's records (Registry.offline_slips_of); never a voter's keyed hash, only where and when."""

from __future__ import annotations

from collections import Counter
from typing import Any

from center.dashboard import texts
from center.reconcile import OtherSlip, PermitFault, ReconcileOutcome, ReconcileRecord

Json = dict[str, Any]
UNAVAILABLE = "تطبیق تعرفه‌های آفلاین در دسترس نیست: ثبت‌های مرکز خوانده نشد."
OUTCOMES = {
    ReconcileOutcome.ISSUED: "صادرشده",
    ReconcileOutcome.DOUBLE_VOTE: "رأی تکراری",
    ReconcileOutcome.INELIGIBLE: "غیرمجاز",
    ReconcileOutcome.CONFLICT: "سابقهٔ متعارض",
}
FAULTS = {
    PermitFault.UNKNOWN_PERMIT: "مجوز ناشناخته",
    PermitFault.FOREIGN_DISTRICT: "مجوز ناحیهٔ دیگر",
    PermitFault.FOREIGN_BRANCH: "مجوز شعبهٔ دیگر",
    PermitFault.FOREIGN_TERMINAL: "دستگاهی که مجوز نام نبرده",
    PermitFault.BAD_ACTIVATION: "فعال‌سازی نادرست",
    PermitFault.BEFORE_WINDOW: "پیش از آغاز مجوز",
    PermitFault.AFTER_WINDOW: "پس از پایان مجوز",
    PermitFault.AFTER_END: "پس از پایان‌دادن ستاد",
    PermitFault.OVER_LIMIT: "بیش از سقف مجوز",
    PermitFault.FORGED_CODE: "کد آفلاین ساختگی",
}


def reconcile_view(records: list[ReconcileRecord] | None) -> Json:
    """The summary, a row per branch with OFFLINE slips, and each double vote naming both slips."""
    if records is None:
        return {"available": False, "text": UNAVAILABLE}
    outcomes = Counter(record.outcome for record in records)
    faulted = sum(1 for record in records if record.faults)
    summary = [("recorded", "تعرفهٔ آفلاین ثبت‌شده", len(records)),
               *((outcome.value, label, outcomes[outcome]) for outcome, label in OUTCOMES.items()),
               ("faults", "بیرون از مجوز", faulted)]
    branches = sorted({record.branch for record in records})
    return {
        "available": True,
        "summary": [{"key": key, "label": label, "value": value, "text": texts.digits(value)}
                    for key, label, value in summary],
        "branches": [_branch(branch, [r for r in records if r.branch == branch]) for branch in branches],
        "double_votes": [_double(record) for record in records if record.outcome is ReconcileOutcome.DOUBLE_VOTE],
        "faults": [{"branch": record.branch, "terminal": record.terminal, "code": record.offline_code,
                    "text": "، ".join(FAULTS[fault] for fault in record.faults), "at": texts.clock(record.issued_at)}
                   for record in records if record.faults],
    }


def _branch(branch: str, records: list[ReconcileRecord]) -> Json:
    outcomes = Counter(record.outcome for record in records)
    doubles = outcomes[ReconcileOutcome.DOUBLE_VOTE] + outcomes[ReconcileOutcome.CONFLICT]
    faults = sum(1 for record in records if record.faults)
    colour = "red" if doubles or faults or outcomes[ReconcileOutcome.INELIGIBLE] else "green"
    parts = [f"{label} {texts.digits(outcomes[outcome])}" for outcome, label in OUTCOMES.items() if outcomes[outcome]]
    if faults:
        parts.append(f"بیرون از مجوز {texts.digits(faults)}")
    return {"branch": branch, "colour": colour, "slips": len(records), "slips_text": texts.digits(len(records)),
            "terminals": sorted({record.terminal for record in records}), "text": "، ".join(parts),
            "last": texts.clock(max(record.issued_at for record in records))}


def _double(record: ReconcileRecord) -> Json:
    other = record.other
    return {"branch": record.branch, "terminal": record.terminal, "at": texts.clock(record.issued_at),
            "permit": record.permit_id[:8], "code": record.offline_code,
            "text": f"شعبهٔ {record.branch}، دستگاه {record.terminal}، ساعت {texts.clock(record.issued_at)} "
                    f"(آفلاین، مجوز {record.permit_id[:8]}) — پس از {_other(other, record.district)}"}


def _other(other: OtherSlip | None, own_district: str) -> str:
    """The slip that held the voter first; its district named only if it is another (the registry is national)."""
    if other is None:
        return "تعرفهٔ دیگری"
    kind = "آفلاین" if other.offline_code is not None else "برخط"
    district = f"ناحیهٔ {other.district}، " if other.district != own_district else ""
    return f"{district}شعبهٔ {other.branch}، دستگاه {other.terminal}، ساعت {texts.clock(other.at)} ({kind})"
