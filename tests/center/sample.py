"""A small voter roll and three terminals the center tests share."""

from __future__ import annotations

from datetime import date

from center.eligibility import VoterRecord, VoterStatus
from center.registry import Requester
from center.voter_key import registry_key
from protocol.national_code import NationalCode, complete_national_code
from protocol.seal import generate_sealing_key

ELECTION_DAY = date(2026, 6, 12)
BRANCH_A = Requester("t-a1", "branch-a", "d-test")
BRANCH_A_SECOND = Requester("t-a2", "branch-a", "d-test")
BRANCH_B = Requester("t-b1", "branch-b", "d-test")


def code(first_nine: str) -> NationalCode:
    """A valid national code from nine digits."""
    return NationalCode(complete_national_code(first_nine))


ADULT = code("001234567")
ADULT_TWO = code("002345678")
DECEASED = code("003456789")
DISQUALIFIED = code("004567891")
EIGHTEEN_TODAY = code("005678912")
EIGHTEEN_TOMORROW = code("006789123")
UNLISTED = code("007891234")

SMALL_ROLL = (
    VoterRecord(ADULT, date(1980, 3, 21), "علی رضایی", VoterStatus.ELIGIBLE),
    VoterRecord(ADULT_TWO, date(1975, 1, 2), "زهرا حسین‌زاده", VoterStatus.ELIGIBLE),
    VoterRecord(DECEASED, date(1940, 5, 5), "حسن کریمی", VoterStatus.DECEASED),
    VoterRecord(DISQUALIFIED, date(1970, 7, 7), "مریم نوری", VoterStatus.DISQUALIFIED),
    VoterRecord(EIGHTEEN_TODAY, date(2008, 6, 12), "سارا امینی", VoterStatus.ELIGIBLE),
    VoterRecord(EIGHTEEN_TOMORROW, date(2008, 6, 13), "آرش باقری", VoterStatus.ELIGIBLE),
)

SEALING_KEY = generate_sealing_key()
"""The center's sealing key in these tests; the registry's voter key derives from it, as in production."""
VOTER_KEY = registry_key(SEALING_KEY)
