"""A district's day of elections for tests and the demo: a presidential count, and a city council if asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol.minutes import (
    COUNT_FIGURES,
    Candidate,
    CandidateVotes,
    CountKind,
    Election,
    ElectionBundle,
    ElectionCount,
    MinutesFigures,
)

PRESIDENT = Election("PRES", "انتخابات ریاست جمهوری", CountKind.ONE_NAME, 1, (
    Candidate("P01", "محمدرضا احمدی"),
    Candidate("P02", "فاطمه حسینی"),
    Candidate("P03", "علی‌اکبر کریمی"),
    Candidate("P04", "زهرا موسوی"),
    Candidate("P05", "حسن رحیمی"),
))
COUNCIL = Election("CNCL", "انتخابات شورای اسلامی شهر", CountKind.SEVERAL_NAMES, 5, tuple(
    Candidate(f"C{number:02d}", name) for number, name in enumerate((
        "مریم صادقی", "رضا جعفری", "سارا نوری", "مهدی قاسمی", "نرگس باقری", "امیر طاهری", "لیلا فرهادی",
        "کاوه شریفی"), start=1)))


def day_election(district: str, *, council: bool = False) -> ElectionBundle:
    """The presidential election of the day (one name, five candidates), with the council (five seats, eight
    candidates) when asked for."""
    return ElectionBundle(district, (PRESIDENT, COUNCIL) if council else (PRESIDENT,))


def counted(bundle: ElectionBundle, in_box: int, *, seals: tuple[str, ...] = ("S-1001", "S-1002"),
            invalid: int = 1, typo: int = 0) -> MinutesFigures:
    """Figures that pass every check for `in_box` ballots (each election's ballot papers received = 2 × in the
    box), the valid votes spread over the candidates; `typo` adds that much to the first candidate's votes (an
    official's slip of the pen, caught by the double entry)."""
    counts = []
    for election in bundle.elections:
        valid = max(in_box - invalid, 0)
        share = [valid // len(election.candidates)] * len(election.candidates)
        share[0] += valid - sum(share) + typo
        counts.append(ElectionCount(election.code, received=2 * in_box, used=in_box, spoiled=0, unused=in_box,
                                    in_box=in_box, invalid=min(invalid, in_box),
                                    votes=tuple(CandidateVotes(candidate.code, votes)
                                                for candidate, votes in zip(election.candidates, share,
                                                                            strict=True))))
    return MinutesFigures(seals, tuple(counts))


def screen_form(figures: MinutesFigures, typed: Callable[[int], str] = str) -> dict[str, Any]:
    """What the operator screen's page posts for these figures (firmware_app.screen.minutes_form reads it): every
    number as `typed` writes it, and one seal box left empty."""
    return {"seals": [*figures.seals, ""], "counts": [
        {"election": count.election, **{name: typed(getattr(count, name)) for name in COUNT_FIGURES},
         "votes": [{"candidate": entry.candidate, "votes": typed(entry.votes)} for entry in count.votes]}
        for count in figures.counts]}
