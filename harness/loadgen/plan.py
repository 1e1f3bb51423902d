"""What the load generator plays: the mix of voters, dealt to the terminals before the clock starts."""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from center.eligibility import VoterRecord, ineligible_reason
from protocol.national_code import complete_national_code


class Visit(enum.StrEnum):
    """One voter at one terminal, by what should happen."""

    ISSUED = "issued"
    """Reserve (ELIGIBLE), then commit: the slip came out."""
    VOIDED = "voided"
    """Reserve (ELIGIBLE), then void: the voter left."""
    RETRIED = "retried"
    """Reserve, then the same transaction again (the same bytes, or a new request id): the same inquiry code; commit."""
    DUPLICATE = "duplicate"
    """A voter another terminal already issued a slip to: DUPLICATE."""
    INELIGIBLE = "ineligible"
    """A voter not on the roll, under age, deceased or disqualified: INELIGIBLE."""


@dataclass(frozen=True)
class Mix:
    """Shares of the visits that are not a plain issue; the rest are ISSUED."""

    voided: float = 0.08
    retried: float = 0.05
    duplicate: float = 0.04
    ineligible: float = 0.04

    def __post_init__(self) -> None:
        parts = (self.voided, self.retried, self.duplicate, self.ineligible)
        if any(part < 0 for part in parts) or sum(parts) > 1:
            raise ValueError("the mix's shares must be non-negative and add up to at most 1")


@dataclass(frozen=True)
class Step:
    """One visit as dealt: its kind and the voter's national code (None for a DUPLICATE: the terminal picks, when
    it comes to it, a voter its driver has already seen issued by another terminal)."""

    visit: Visit
    code: str | None


@dataclass(frozen=True)
class Deal:
    """Each terminal's visits, in order; the same seed deals the same."""

    steps: tuple[tuple[Step, ...], ...]

    @property
    def visits(self) -> int:
        return sum(len(steps) for steps in self.steps)


def deal(roll: Sequence[VoterRecord], election_day: date, terminals: int, visits: int, mix: Mix, seed: int
         ) -> Deal:
    """`visits` visits over `terminals` terminals (round robin), each eligible voter used at most once; the
    ineligible are the roll's own (under age, deceased, disqualified) and codes not on the roll."""
    rng = random.Random(seed)
    eligible = [r.national_code.digits for r in roll if ineligible_reason(r, election_day) is None]
    refused = [r.national_code.digits for r in roll if ineligible_reason(r, election_day) is not None]
    rng.shuffle(eligible)
    kinds = ([Visit.VOIDED] * round(visits * mix.voided) + [Visit.RETRIED] * round(visits * mix.retried)
             + [Visit.DUPLICATE] * round(visits * mix.duplicate) + [Visit.INELIGIBLE] * round(visits * mix.ineligible))
    kinds = kinds[:visits] + [Visit.ISSUED] * (visits - len(kinds))
    rng.shuffle(kinds)
    needed = sum(kind in (Visit.ISSUED, Visit.VOIDED, Visit.RETRIED) for kind in kinds)
    if needed > len(eligible):
        raise ValueError(f"{needed} visits need an eligible voter each; the roll has {len(eligible)}")
    on_roll = {r.national_code.digits for r in roll}
    fresh = iter(eligible)
    dealt: list[list[Step]] = [[] for _ in range(terminals)]
    for index, kind in enumerate(kinds):
        code: str | None
        if kind is Visit.DUPLICATE:
            code = None
        elif kind is Visit.INELIGIBLE:
            code = rng.choice(refused) if refused and rng.random() < 0.5 else _unlisted(rng, on_roll)
        else:
            code = next(fresh)
        dealt[index % terminals].append(Step(kind, code))
    return Deal(tuple(tuple(steps) for steps in dealt))


def _unlisted(rng: random.Random, on_roll: set[str]) -> str:
    while True:
        code = complete_national_code(f"{rng.randrange(10**9):09d}")
        if code not in on_roll and len(set(code)) > 1:
            return code
