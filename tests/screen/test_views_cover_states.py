"""The page has a view of its own for every state of the flow: none falls back to showing the state's name."""

from __future__ import annotations

import re
from pathlib import Path

from firmware_app.flow.states import ALL_STATES

SCRIPT = Path(__file__).resolve().parents[2] / "firmware_app" / "screen" / "static" / "screen.js"


def test_every_flow_state_has_its_view_in_the_page() -> None:
    source = SCRIPT.read_text(encoding="utf-8")
    table = source[source.index("const VIEWS = {"):]
    table = table[:table.index("\n};")]
    viewed = set(re.findall(r"^  ([A-Z][A-Za-z]+):", table, flags=re.MULTILINE))
    states = {state.__name__ for state in ALL_STATES}
    assert states - viewed == set(), "states the page shows only by name"
    assert viewed - states == set(), "views of states the flow does not have"
