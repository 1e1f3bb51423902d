"""The minutes form as the page posts it: figures typed in Persian, Arabic-Indic or ASCII digits, read into
MinutesFigures by the protocol's strict codec (the flow then checks them against the day's bundle)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from firmware_app.flow import texts
from protocol.codec import MAX_MINUTES_BYTES, ProtocolError, decode_minutes_figures
from protocol.minutes import COUNT_FIGURES, MAX_CANDIDATES, MAX_ELECTIONS, MAX_SEALS, MinutesFigures
from protocol.national_code import to_ascii_digits

FIGURE_DIGITS = 6
"""Digits of one typed figure at most (the protocol bounds the value itself)."""
NUMBER_EXPECTED = "a number expected"
_PATH = re.compile(r"counts\[(\d+)\](?:\.votes\[(\d+)\](?:\.\w+)?|(\.\w+)?)$")
FORM_BYTES_MAX = 2 * MAX_MINUTES_BYTES
"""The largest form the page may post: the figures' own bound, twice over for figures typed as strings of Persian
digits (two bytes each in UTF-8) and the request's few other fields."""


@dataclass(frozen=True)
class FormProblem:
    """What is wrong with the posted form, by the field's path (as the double entry names fields)."""

    field: str
    problem: str

    @property
    def text(self) -> str:
        """For the officials: which box of the form to look at."""
        if self.problem == NUMBER_EXPECTED:
            return f"{texts.figure_name(self.field)}: عددی وارد نشده یا عدد درست نیست."
        return f"فرم صورتجلسه کامل نیست ({texts.figure_name(self.field) if self.field else 'همهٔ فرم'})."


def read_minutes_form(form: object) -> MinutesFigures | FormProblem:
    """{"seals": [text...], "counts": [{"election", the six figures, "votes": [{"candidate", "votes"}]}]}: empty
    seal boxes are dropped, every figure must be typed (an empty box is a problem, never a zero)."""
    if not isinstance(form, dict) or set(form) != {"seals", "counts"}:
        return FormProblem("", "seals and counts expected")
    seals, counts = form["seals"], form["counts"]
    if not isinstance(seals, list) or len(seals) > MAX_SEALS + 1 or not all(isinstance(s, str) for s in seals):
        return FormProblem("seals", "a list of seal numbers expected")
    if not isinstance(counts, list) or len(counts) > MAX_ELECTIONS:
        return FormProblem("counts", "a list of counts expected")
    read: list[dict[str, Any]] = []
    for count in counts:
        done = _count(count)
        if isinstance(done, FormProblem):
            return done
        read.append(done)
    typed = [to_ascii_digits(seal.strip()) for seal in seals]
    document = {"kind": "minutes_figures", "v": 1, "seals": [seal for seal in typed if seal], "counts": read}
    figures = decode_minutes_figures(json.dumps(document).encode())
    if isinstance(figures, ProtocolError):
        return FormProblem(_form_path(figures.where, read), figures.kind.value)
    return figures


def _form_path(where: str, counts: list[dict[str, Any]]) -> str:
    """The codec's `counts[0].votes[2].votes` as the form names its box: `counts.PRES.votes.P03`."""
    found = _PATH.match(where)
    if found is None:
        return where.split("[", maxsplit=1)[0]
    count, vote, rest = found.group(1), found.group(2), found.group(3) or ""
    election = counts[int(count)]
    path = f"counts.{election['election']}"
    if vote is not None:
        return f"{path}.votes.{election['votes'][int(vote)]['candidate']}"
    return f"{path}{rest}"


def _count(count: object) -> dict[str, Any] | FormProblem:
    if not isinstance(count, dict) or not isinstance(count.get("election"), str):
        return FormProblem("counts", "each count names its election")
    election = count["election"]
    where = f"counts.{election}"
    if set(count) != {"election", *COUNT_FIGURES, "votes"}:
        return FormProblem(where, "the six figures and the votes expected")
    read: dict[str, Any] = {"election": election}
    for name in COUNT_FIGURES:
        figure = _figure(count[name])
        if figure is None:
            return FormProblem(f"{where}.{name}", NUMBER_EXPECTED)
        read[name] = figure
    votes = count["votes"]
    if not isinstance(votes, list) or len(votes) > MAX_CANDIDATES:
        return FormProblem(f"{where}.votes", "a list of votes expected")
    read["votes"] = []
    for entry in votes:
        if not isinstance(entry, dict) or set(entry) != {"candidate", "votes"} or not isinstance(
                entry["candidate"], str):
            return FormProblem(f"{where}.votes", "each entry names its candidate")
        figure = _figure(entry["votes"])
        if figure is None:
            return FormProblem(f"{where}.votes.{entry['candidate']}", NUMBER_EXPECTED)
        read["votes"].append({"candidate": entry["candidate"], "votes": figure})
    return read


def _figure(value: object) -> int | None:
    """A typed figure: up to FIGURE_DIGITS digits of any of the three scripts, nothing else (no sign, no space
    inside, no empty box)."""
    if not isinstance(value, str):
        return None
    digits = to_ascii_digits(value.strip())
    if not 0 < len(digits) <= FIGURE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits)
