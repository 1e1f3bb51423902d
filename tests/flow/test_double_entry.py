"""The double entry: two officials, the same figures, or neither entry kept and the differing fields named."""

from __future__ import annotations

import dataclasses

from firmware_app.flow.double_entry import (
    EntriesAgree,
    EntriesDiffer,
    MinutesEntry,
    SameOfficial,
    compare_entries,
)
from tests.protocol.minutes_samples import council, figures, president


def test_two_officials_entering_the_same_figures_agree() -> None:
    agreed = compare_entries(MinutesEntry("head", figures()), MinutesEntry("operator", figures()))
    assert agreed == EntriesAgree(figures(), ("head", "operator"))


def test_a_typo_in_one_entry_names_the_field_and_keeps_neither() -> None:
    typo = figures(pres=president(votes=(200, 105, 40)))
    differ = compare_entries(MinutesEntry("head", figures()), MinutesEntry("operator", typo))
    assert differ == EntriesDiffer(("counts.PRES.votes.P2",))


def test_every_differing_field_is_named_seals_included() -> None:
    other = figures(seals=("S-1001", "S-1003"), pres=president(in_box=401, invalid=11), cncl=council(invalid=19))
    differ = compare_entries(MinutesEntry("head", figures()), MinutesEntry("operator", other))
    assert isinstance(differ, EntriesDiffer)
    assert differ.fields == ("seals", "counts.PRES.in_box", "counts.PRES.invalid", "counts.CNCL.invalid")


def test_an_election_missing_from_one_entry_is_a_difference() -> None:
    short = dataclasses.replace(figures(), counts=(president(),))
    differ = compare_entries(MinutesEntry("head", figures()), MinutesEntry("operator", short))
    assert differ == EntriesDiffer(("counts.CNCL",))
    reverse = compare_entries(MinutesEntry("head", short), MinutesEntry("operator", figures()))
    assert reverse == EntriesDiffer(("counts.CNCL",))


def test_one_official_cannot_enter_both() -> None:
    assert compare_entries(MinutesEntry("head", figures()), MinutesEntry("head", figures())) == SameOfficial("head")
