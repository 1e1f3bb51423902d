"""The minutes entered twice by two officials: kept only when both entries agree, figure for figure."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.minutes import MinutesFigures


@dataclass(frozen=True)
class MinutesEntry:
    """One official's entry of the whole minutes."""

    official: str
    figures: MinutesFigures


@dataclass(frozen=True)
class EntriesAgree:
    figures: MinutesFigures
    officials: tuple[str, str]


@dataclass(frozen=True)
class EntriesDiffer:
    """Neither entry is kept; the officials are shown which fields differ (never which value is right)."""

    fields: tuple[str, ...]


@dataclass(frozen=True)
class SameOfficial:
    """The second entry must be made by another official."""

    official: str


def compare_entries(first: MinutesEntry, second: MinutesEntry) -> EntriesAgree | EntriesDiffer | SameOfficial:
    if first.official == second.official:
        return SameOfficial(second.official)
    differing = _differences(first.figures, second.figures)
    if differing:
        return EntriesDiffer(differing)
    return EntriesAgree(first.figures, (first.official, second.official))


def _differences(first: MinutesFigures, second: MinutesFigures) -> tuple[str, ...]:
    fields: list[str] = []
    if first.seals != second.seals:
        fields.append("seals")
    theirs = {count.election: dict(count.figures()) for count in second.counts}
    for count in first.counts:
        other = theirs.pop(count.election, None)
        if other is None:
            fields.append(f"counts.{count.election}")
            continue
        mine = dict(count.figures())
        fields.extend(f"counts.{count.election}.{name}" for name in sorted(mine.keys() | other.keys())
                      if mine.get(name) != other.get(name))
    fields.extend(f"counts.{election}" for election in sorted(theirs))
    return tuple(fields)
