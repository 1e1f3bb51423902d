"""A synthetic voter roll for demos and tests: valid national codes, Persian names, a share of ineligibles."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from center.eligibility import VOTING_AGE, VoterRecord, VoterStatus
from protocol.national_code import NationalCode, complete_national_code

_MALE_NAMES = (
    "محمد", "علی", "حسین", "رضا", "مهدی", "امیر", "حسن", "مصطفی", "جواد", "سعید",
    "مجید", "احمد", "عباس", "محمدرضا", "کاظم", "یوسف", "بهروز", "داریوش", "کوروش", "فرهاد",
    "سیاوش", "بابک", "ابراهیم", "اسماعیل", "ناصر", "مرتضی", "هادی", "وحید", "پیمان", "آرش",
)
_FEMALE_NAMES = (
    "فاطمه", "زهرا", "مریم", "معصومه", "زینب", "سمیه", "نرگس", "لیلا", "مهسا", "سارا",
    "نازنین", "پریسا", "شیرین", "آزاده", "الهام", "فرشته", "مینا", "رویا", "طاهره", "کبری",
    "نسرین", "هانیه", "ستاره", "سحر", "پروین", "ژاله", "شهلا", "بهاره", "نیلوفر", "آتنا",
)
_FAMILY_NAMES = (
    "محمدی", "حسینی", "احمدی", "رضایی", "موسوی", "کریمی", "جعفری", "رحیمی", "هاشمی", "قاسمی",
    "صادقی", "نوری", "عباسی", "ابراهیمی", "کاظمی", "شریفی", "یزدانی", "تهرانی", "اصفهانی", "شیرازی",
    "حسین‌زاده", "علی‌پور", "قلی‌زاده", "نجفی", "طاهری", "فراهانی", "بختیاری", "سلطانی", "میرزایی", "اکبری",
    "زارعی", "مرادی", "فتحی", "باقری", "امینی", "رستمی", "خسروی", "کرمانی", "گیلانی", "تبریزی",
)
_OLDEST_AGE = 95


@dataclass(frozen=True)
class RollShares:
    """The share of each kind of ineligible record; the rest are eligible adults."""

    deceased: float = 0.03
    disqualified: float = 0.02
    under_age: float = 0.05

    def __post_init__(self) -> None:
        parts = (self.deceased, self.disqualified, self.under_age)
        if any(part < 0 for part in parts) or sum(parts) > 1:
            raise ValueError("roll shares must be non-negative and add up to at most 1")


def generate_roll(
    count: int, seed: int, election_day: date, shares: RollShares | None = None
) -> list[VoterRecord]:
    """`count` distinct voters, the same for the same seed; ineligible kinds in exactly the shares asked."""
    if count < 0:
        raise ValueError("count must not be negative")
    shares = shares or RollShares()
    rng = random.Random(seed)
    kinds = (
        [VoterStatus.DECEASED] * round(count * shares.deceased)
        + [VoterStatus.DISQUALIFIED] * round(count * shares.disqualified)
        + [None] * round(count * shares.under_age)
    )
    kinds = kinds[:count] + [VoterStatus.ELIGIBLE] * (count - len(kinds))
    rng.shuffle(kinds)
    codes = _distinct_codes(rng, count, taken=())
    records = []
    for code, kind in zip(codes, kinds, strict=True):
        under_age = kind is None
        birth_date = _birth_date(rng, election_day, under_age=under_age)
        status = VoterStatus.ELIGIBLE if kind is None else kind
        records.append(VoterRecord(code, birth_date, _name(rng), status))
    return records


def unlisted_national_codes(count: int, seed: int, roll: Collection[VoterRecord]) -> list[NationalCode]:
    """Valid national codes that are not on `roll`: people the center answers NOT_ON_ROLL."""
    taken = {record.national_code.digits for record in roll}
    return _distinct_codes(random.Random(seed), count, taken)


def _distinct_codes(rng: random.Random, count: int, taken: Collection[str]) -> list[NationalCode]:
    seen = set(taken)
    codes: list[NationalCode] = []
    while len(codes) < count:
        digits = complete_national_code(f"{rng.randrange(10**9):09d}")
        if digits in seen or len(set(digits)) == 1:
            continue
        seen.add(digits)
        codes.append(NationalCode(digits))
    return codes


def _birth_date(rng: random.Random, election_day: date, *, under_age: bool) -> date:
    """Adults aged 18 to 95 on election day; minors aged 16 or 17 (not yet 18 on the day)."""
    youngest_adult = _years_before(election_day, VOTING_AGE)
    if under_age:
        latest = _years_before(election_day, VOTING_AGE - 2)
        return youngest_adult + timedelta(days=rng.randint(1, (latest - youngest_adult).days))
    oldest = _years_before(election_day, _OLDEST_AGE)
    return oldest + timedelta(days=rng.randint(1, (youngest_adult - oldest).days))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _name(rng: random.Random) -> str:
    given = rng.choice(_MALE_NAMES if rng.random() < 0.5 else _FEMALE_NAMES)
    return f"{given} {rng.choice(_FAMILY_NAMES)}"
