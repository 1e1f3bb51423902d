"""What the minutes form and the counting instructions need of a state, as plain JSON values: the bundle's elections
and candidates, whether a first entry is held (never its figures), the last mismatch, the recorded checks."""

from __future__ import annotations

from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.screen.view import Json, jalali
from protocol.minutes import COUNT_FIGURES, Check, CheckResult, ElectionBundle, Minutes

CHECK_TEXTS: dict[Check, str] = {
    Check.PAPERS_BALANCE: "برگ‌های مصرف‌شده، باطل‌شده و مصرف‌نشده برابر برگ‌های دریافتی",
    Check.BOX_MATCHES_VOTES: "آرای داخل صندوق با آرای نامزدها و آرای باطل جور است",
    Check.BOX_WITHIN_SLIPS: "آرای داخل صندوق بیش از رسیدهای صادرشدهٔ این دستگاه نیست",
    Check.BOX_WITHIN_CENTER: "آرای داخل صندوق بیش از رسیدهای ثبت‌شدهٔ ستاد برای شعبه نیست",
}


def instructions_view(state: st.State) -> Json | None:
    """The newest counting instructions the district sent, if any."""
    if isinstance(state, st.Starting) or state.day.instructions is None:
        return None
    held = state.day.instructions
    return {"title": held.title, "text": held.text, "issued_at": jalali(held.issued_at)}


def minutes_view(state: st.State, recorded: tuple[Minutes, str] | None) -> Json | None:
    """Once the polls are closed: what the form asks for and where the entry is; `recorded` is the journal's
    minutes and their hash once the two entries agreed."""
    if not isinstance(state, st.AfterClose):
        return None
    first = state.first if isinstance(state, st.EnteringMinutes) else None
    mismatch = state.mismatch if isinstance(state, st.EnteringMinutes) else ()
    election = state.day.election
    return {
        "elections": _elections(election) if election is not None else [],
        "figures": [{"name": name, "text": texts.FIGURE_LABELS[name]} for name in COUNT_FIGURES],
        "first_entry_by": first.official if first is not None else None,
        "mismatch": [{"field": name, "text": texts.figure_name(name)} for name in mismatch],
        "recorded": _recorded(*recorded) if recorded is not None else None,
    }


def _elections(bundle: ElectionBundle) -> list[Json]:
    return [{"code": election.code, "title": election.title, "kind": election.kind.value, "seats": election.seats,
             "candidates": [{"code": candidate.code, "name": candidate.name} for candidate in election.candidates]}
            for election in bundle.elections]


def _recorded(minutes: Minutes, minutes_hash: str) -> Json:
    return {"hash": minutes_hash, "officials": list(minutes.officials), "slips_issued": minutes.slips_issued,
            "offline_slips": minutes.offline_slips,
            "center_committed": minutes.center_committed, "training": minutes.training,
            "entered_at": jalali(minutes.entered_at), "failed": len(minutes.failed),
            "checks": [_check(result) for result in minutes.checks]}


def _check(result: CheckResult) -> Json:
    return {"check": result.check.value, "election": result.election, "passed": result.passed,
            "found": result.found, "bound": result.bound, "text": CHECK_TEXTS[result.check]}
