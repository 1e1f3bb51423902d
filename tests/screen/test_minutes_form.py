"""The minutes form as the page posts it: digits of any script, an empty box named, nothing but the form's shape
read, the protocol's bounds kept; the action that carries it is the signed-in official's entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from firmware_app.flow.events import MinutesEntered
from firmware_app.screen.actions import ACTIONS, BODY_MAX, LARGEST_BODY, Brings, Given
from firmware_app.screen.minutes_form import FORM_BYTES_MAX, FormProblem, read_minutes_form
from harness.election import counted, day_election, screen_form
from protocol.minutes import (
    MAX_CANDIDATES,
    MAX_FIGURE,
    Candidate,
    CountKind,
    Election,
    ElectionBundle,
    MinutesFigures,
)
from protocol.national_code import to_persian_digits

BUNDLE = day_election("D01", council=True)
FIGURES = counted(BUNDLE, 120, typo=0)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("typed", [str, lambda v: to_persian_digits(str(v)),
                                   lambda v: str(v).translate(ARABIC_INDIC), lambda v: f" {v} "],
                         ids=["ascii", "persian", "arabic-indic", "padded"])
def test_the_figures_read_alike_in_every_script_of_digits(typed: Any) -> None:
    assert read_minutes_form(screen_form(FIGURES, typed)) == FIGURES


def test_an_empty_box_is_named_never_read_as_zero() -> None:
    form = screen_form(FIGURES)
    form["counts"][1]["votes"][2]["votes"] = ""
    problem = read_minutes_form(form)
    assert isinstance(problem, FormProblem) and problem.field == "counts.CNCL.votes.C03"
    assert "C03" in problem.text and "عدد" in problem.text
    form = screen_form(FIGURES)
    form["counts"][0]["spoiled"] = "  "
    problem = read_minutes_form(form)
    assert isinstance(problem, FormProblem) and problem.field == "counts.PRES.spoiled"
    assert "برگ رأی باطل‌شده" in problem.text


@pytest.mark.parametrize("text", ["-1", "+3", "1 2", "1.5", "1e3", "۱٫۵", "١٢x", "1234567", "٣²", "¹"])
def test_anything_but_plain_digits_is_refused(text: str) -> None:
    form = screen_form(FIGURES)
    form["counts"][0]["in_box"] = text
    problem = read_minutes_form(form)
    assert isinstance(problem, FormProblem) and problem.field == "counts.PRES.in_box", text


def test_a_number_typed_as_json_is_refused_so_the_page_cannot_send_a_float_or_a_bool() -> None:
    for value in (3, 3.0, True, None, [3]):
        form = screen_form(FIGURES)
        form["counts"][0]["used"] = value
        assert isinstance(read_minutes_form(form), FormProblem), value


def test_the_protocols_bounds_hold_on_the_form() -> None:
    form = screen_form(FIGURES)
    form["counts"][0]["received"] = str(MAX_FIGURE + 1)
    problem = read_minutes_form(form)
    assert isinstance(problem, FormProblem) and (problem.field, problem.problem) == ("counts.PRES.received", "bad_value")
    form = screen_form(FIGURES)
    form["counts"][1]["votes"][4]["votes"] = str(MAX_FIGURE + 1)
    problem = read_minutes_form(form)
    assert isinstance(problem, FormProblem) and problem.field == "counts.CNCL.votes.C05"
    form = screen_form(FIGURES)
    form["seals"] = ["S-1"] * 12
    assert isinstance(read_minutes_form(form), FormProblem)


@pytest.mark.parametrize("change", ["extra key", "missing key", "not a list", "votes not a list", "no election"])
def test_a_form_of_another_shape_is_refused(change: str) -> None:
    form = screen_form(FIGURES)
    count = form["counts"][0]
    match change:
        case "extra key":
            count["ballots"] = "1"
        case "missing key":
            del count["unused"]
        case "not a list":
            form["counts"] = count
        case "votes not a list":
            count["votes"] = {"P01": "1"}
        case "no election":
            del count["election"]
    assert isinstance(read_minutes_form(form), FormProblem)
    assert isinstance(read_minutes_form([form]), FormProblem)


def test_empty_seal_boxes_are_dropped_and_seal_digits_are_read_as_ascii() -> None:
    form = screen_form(FIGURES)
    form["seals"] = ["", "S-۱۰۰۱", " S-1002 ", ""]
    read = read_minutes_form(form)
    assert isinstance(read, MinutesFigures) and read.seals == ("S-1001", "S-1002")


def test_the_entry_is_the_signed_in_officials_and_only_its_request_may_be_large() -> None:
    spec = ACTIONS["enter_minutes"]
    assert spec.brings is Brings.MINUTES
    assert spec.event(datetime.now(UTC), Given(figures=FIGURES, official="head")) == MinutesEntered("head", FIGURES)
    with pytest.raises(ValueError, match="official"):
        spec.event(datetime.now(UTC), Given(figures=FIGURES))
    assert spec.body_max == LARGEST_BODY == FORM_BYTES_MAX > BODY_MAX
    assert {name for name, other in ACTIONS.items() if other.body_max > BODY_MAX} == {"enter_minutes"}
    city = Election("CNCL", "شورای شهر", CountKind.SEVERAL_NAMES, 21,
                    tuple(Candidate(f"C{n:03d}", f"نامزد {n}") for n in range(MAX_CANDIDATES)))
    largest = counted(ElectionBundle("D01", (*BUNDLE.elections[:1], city)), MAX_FIGURE // 2)
    posted = json.dumps({"action": "enter_minutes", "seen": 1,
                         "minutes": screen_form(largest, lambda v: to_persian_digits(str(v)))}, ensure_ascii=False)
    assert BODY_MAX < len(posted.encode()) <= FORM_BYTES_MAX, "a large city's council is more than an action's 4 KiB"
    assert read_minutes_form(json.loads(posted)["minutes"]) == largest
