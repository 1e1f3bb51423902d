"""What the screen's snapshot gives a minutes form: the bundle's elections and candidates, whether a first entry is
held (never its figures), the last mismatch, the recorded checks, and the district's counting instructions."""

from __future__ import annotations

import json

from firmware_app.flow import examples as s
from firmware_app.flow import states as st
from firmware_app.flow.double_entry import MinutesEntry
from firmware_app.flow.events import Event, OperatorDismissed
from firmware_app.flow.step import Step
from firmware_app.screen.model import Identity, ScreenModel
from firmware_app.screen.view import Json
from protocol.codec import minutes_hash
from protocol.minutes import Minutes, check_minutes

MINUTES = Minutes("ab" * 32, s.FIGURES, ("head", "operator"), 100, None,
                  check_minutes(s.FIGURES, s.ELECTION, 100, None), s.AT, False)
EVENT: Event = OperatorDismissed()


def snapshot(state: st.State) -> Json:
    model = ScreenModel(Identity("T-1", "B-1", False), lambda: {}, lambda: (MINUTES, minutes_hash(MINUTES)))
    model.stepped(st.Starting(), EVENT, Step(state))
    body = model.current().body
    json.dumps(body)  # what the page is sent must be plain JSON
    return body


def test_after_the_close_the_form_gets_the_elections_and_candidates_and_no_entry_is_held() -> None:
    minutes = snapshot(st.PollsClosed(day=s.DAY))["minutes"]
    assert isinstance(minutes, dict)
    [election] = minutes["elections"]
    assert (election["code"], election["kind"]) == ("PRES", "one_name")
    assert [c["name"] for c in election["candidates"]] == ["نامزد یکم", "نامزد دوم"]
    assert [figure["name"] for figure in minutes["figures"]][:2] == ["received", "used"]
    assert minutes["first_entry_by"] is None and minutes["mismatch"] == [] and minutes["recorded"] is None


def test_a_held_first_entry_shows_who_made_it_never_its_figures() -> None:
    body = snapshot(st.EnteringMinutes(MinutesEntry("head", s.FIGURES), day=s.DAY))
    minutes = body["minutes"]
    assert isinstance(minutes, dict) and minutes["first_entry_by"] == "head"
    assert (body["state"]["type"], body["state"]["first_entry_held"]) == ("EnteringMinutes", True)
    shown = json.dumps(body, ensure_ascii=False)
    assert '"votes"' not in shown and "S-1" not in shown, "the first entry's figures must not reach the page"


def test_the_last_mismatch_is_named_for_the_officials() -> None:
    minutes = snapshot(st.EnteringMinutes(None, ("counts.PRES.votes.P1",), day=s.DAY))["minutes"]
    assert isinstance(minutes, dict)
    assert minutes["mismatch"] == [{"field": "counts.PRES.votes.P1", "text": "آرای نامزد P1 (PRES)"}]


def test_once_agreed_the_recorded_checks_are_shown() -> None:
    minutes = snapshot(st.SendingMinutes(day=s.DAY))["minutes"]
    assert isinstance(minutes, dict)
    recorded = minutes["recorded"]
    assert recorded["hash"] == minutes_hash(MINUTES) and recorded["officials"] == ["head", "operator"]
    assert [check["check"] for check in recorded["checks"]] == ["papers_balance", "box_matches_votes",
                                                                "box_within_slips"]
    assert recorded["failed"] == 0 and recorded["center_committed"] is None


def test_the_counting_instructions_are_shown_when_present() -> None:
    assert snapshot(st.Idle(day=s.DAY))["instructions"] is None
    instructions = snapshot(st.Idle(day=s.INSTRUCTED_DAY))["instructions"]
    assert (instructions["title"], instructions["text"]) == (s.INSTRUCTIONS.title, s.INSTRUCTIONS.text)
    assert instructions["issued_at"].startswith("۱۴۰۵/۰۹/۰۸"), instructions
    assert snapshot(st.Idle(day=s.DAY))["minutes"] is None, "no minutes form while the polls are open"
