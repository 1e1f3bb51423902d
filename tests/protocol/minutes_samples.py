"""A day's election bundle and branch minutes for the minutes tests: a president and a council of three."""

from __future__ import annotations

from protocol.minutes import (
    Candidate,
    CandidateVotes,
    CountKind,
    Election,
    ElectionBundle,
    ElectionCount,
    MinutesFigures,
)

PRESIDENT = Election("PRES", "ریاست جمهوری", CountKind.ONE_NAME, 1,
                     (Candidate("P1", "نامزد یکم"), Candidate("P2", "نامزد دوم"), Candidate("P3", "نامزد سوم")))
COUNCIL = Election("CNCL", "شورای شهر", CountKind.SEVERAL_NAMES, 3,
                   tuple(Candidate(f"C{n}", f"نامزد شورا {n}") for n in range(1, 6)))
BUNDLE = ElectionBundle("D01", (PRESIDENT, COUNCIL))


def votes_for(codes: tuple[str, ...], votes: tuple[int, ...]) -> tuple[CandidateVotes, ...]:
    return tuple(CandidateVotes(code, value) for code, value in zip(codes, votes, strict=True))


def president(in_box: int = 400, votes: tuple[int, int, int] = (200, 150, 40), invalid: int = 10,
              received: int = 500, used: int = 400, spoiled: int = 5, unused: int = 95) -> ElectionCount:
    return ElectionCount("PRES", received, used, spoiled, unused, in_box, invalid,
                         votes_for(("P1", "P2", "P3"), votes))


def council(in_box: int = 400, votes: tuple[int, ...] = (300, 250, 200, 150, 100), invalid: int = 20) -> ElectionCount:
    return ElectionCount("CNCL", 500, 400, 5, 95, in_box, invalid,
                         votes_for(tuple(f"C{n}" for n in range(1, 6)), votes))


def figures(*, pres: ElectionCount | None = None, cncl: ElectionCount | None = None,
            seals: tuple[str, ...] = ("S-1001", "S-1002")) -> MinutesFigures:
    return MinutesFigures(seals, (pres or president(), cncl or council()))
