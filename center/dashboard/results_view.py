"""The district's results as the dashboard shows them: totals per election and candidate, branches, flags (Persian)."""

from __future__ import annotations

from typing import Any

from center.dashboard import texts
from center.results import DistrictResults, turnout_percent

Json = dict[str, Any]
UNAVAILABLE = "نتایج در دسترس نیست: بستهٔ انتخابات ناحیه تنظیم نشده یا خوانده نشد، یا ثبت‌ها خوانده نشد."


def results_view(results: DistrictResults | None) -> Json:
    """Everything the results section draws, computed here (the page only lays it out)."""
    if results is None:
        return {"available": False, "text": UNAVAILABLE}
    agg = results.aggregate
    titles = {election.code: election.title for election in results.bundle.elections}
    names = {c.code: c.name for election in results.bundle.elections for c in election.candidates}
    summary = [("branches", "شعبه‌های ناحیه", len(results.branches)), ("counted", "شعبهٔ شمارش‌شده", len(agg.counted)),
               ("missing", "صورتجلسه نرسیده", len(agg.missing)), ("conflicts", "صورتجلسهٔ متعارض", len(agg.conflicts)),
               ("flags", "نشانه‌های بررسی", len(agg.flags)),
               ("committed", "تعرفهٔ ثبت‌شده در مرکز", results.committed_total)]
    return {
        "available": True, "district": results.district, "bundle": results.bundle_hash[:16],
        "summary": [{"key": key, "label": label, "value": value, "text": texts.digits(value)}
                    for key, label, value in summary],
        "elections": [_election(results, election.code) for election in results.bundle.elections],
        "counted": list(agg.counted), "missing": list(agg.missing), "conflicts": list(agg.conflicts),
        "flags": [{"branch": f.branch, "flag": f.flag.value, "election": titles.get(f.election, ""),
                   "text": texts.flag(f.flag, f.detail), "detail": texts.flag_detail(f.flag, f.detail, names)}
                  for f in agg.flags],
    }


def _election(results: DistrictResults, code: str) -> Json:
    election = next(e for e in results.bundle.elections if e.code == code)
    total = next(t for t in results.aggregate.totals if t.election == code)
    names = {candidate.code: candidate.name for candidate in election.candidates}
    turnout = turnout_percent(total.in_box, total.committed_slips)
    return {
        "election": code, "title": election.title,
        "candidates": [{"candidate": candidate, "name": names[candidate], "votes": votes,
                        "votes_text": texts.digits(votes)} for candidate, votes in total.votes],
        "figures": [{"key": key, "label": label, "text": text} for key, label, text in (
            ("invalid", "آرای باطل", texts.digits(total.invalid)),
            ("in_box", "آرای صندوق", texts.digits(total.in_box)),
            ("committed", "تعرفهٔ ثبت‌شدهٔ شعبه‌های شمارش‌شده", texts.digits(total.committed_slips)),
            ("turnout", "آرای صندوق به ازای هر صد تعرفه", texts.decimal(turnout)))],
    }
