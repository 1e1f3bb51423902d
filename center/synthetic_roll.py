"""A synthetic voter roll for demos and tests: valid national codes, Persian names, a share of ineligibles."""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterator
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


_CODE_SPACE = 10**9
"""Nine-digit bodies of national codes (the tenth digit is the check digit)."""


def stream_roll(
    count: int, seed: int, election_day: date, shares: RollShares | None = None
) -> Iterator[VoterRecord]:
    """The fast path for national-size rolls (millions): `count` distinct voters one at a time, the same for the
    same seed, ineligible kinds in exactly the shares asked, without a set of the codes made so far or a shuffled
    list of kinds. Distinct codes: the i-th body is (a·i + b) mod 10^9 with a prime to 10, a bijection of the code
    space. Kinds: the n-th voter's kind is decided by (c·n + d) mod count with c prime to count, a bijection of
    0..count-1 laid over the kinds' exact counts. Dates and names are drawn from precomputed tables."""
    if not 0 <= count <= _CODE_SPACE - 10:
        raise ValueError(f"count must be from 0 to {_CODE_SPACE - 10}")
    shares = shares or RollShares()
    rng = random.Random(seed)
    step = _coprime(rng, _CODE_SPACE, 10**8)
    offset = rng.randrange(_CODE_SPACE)
    spread = _coprime(rng, max(count, 1), max(count // 3, 1))
    shift = rng.randrange(max(count, 1))
    deceased = round(count * shares.deceased)
    disqualified = deceased + round(count * shares.disqualified)
    under_age = min(count, disqualified + round(count * shares.under_age))
    adults = _days(_years_before(election_day, _OLDEST_AGE) + timedelta(days=1), _years_before(election_day, VOTING_AGE))
    minors = _days(_years_before(election_day, VOTING_AGE) + timedelta(days=1),
                   _years_before(election_day, VOTING_AGE - 2))
    names = [f"{given} {family}" for given in _MALE_NAMES + _FEMALE_NAMES for family in _FAMILY_NAMES]
    weights = _check_weights()
    random_draw = rng.random
    made = 0
    index = 0
    while made < count:
        body = (step * index + offset) % _CODE_SPACE
        index += 1
        high, low = divmod(body, 1000)
        top, middle = divmod(high, 1000)
        remainder = (weights[0][top] + weights[1][middle] + weights[2][low]) % 11
        digits = f"{body:09d}{remainder if remainder < 2 else 11 - remainder}"
        if digits == digits[0] * 10:
            continue
        kind = (spread * made + shift) % count
        made += 1
        status = (VoterStatus.DECEASED if kind < deceased else VoterStatus.DISQUALIFIED if kind < disqualified
                  else VoterStatus.ELIGIBLE)
        days = minors if disqualified <= kind < under_age else adults
        yield VoterRecord(NationalCode(digits), days[int(random_draw() * len(days))],
                          names[int(random_draw() * len(names))], status)


def _coprime(rng: random.Random, modulus: int, at_least: int) -> int:
    """A random number from `at_least` to below `modulus` (or 1) sharing no factor with `modulus`."""
    if modulus <= 2:
        return 1
    while True:
        candidate = rng.randrange(min(at_least, modulus - 1), modulus)
        if math.gcd(candidate, modulus) == 1:
            return candidate


def _days(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [date.fromordinal(day) for day in range(first.toordinal(), last.toordinal() + 1)]


def _check_weights() -> tuple[list[int], list[int], list[int]]:
    """The check-digit sum of each three-digit group of a nine-digit body, by group (weights 10 9 8, 7 6 5, 4 3 2):
    the sum of the body is the three groups' sums."""
    def table(first_weight: int) -> list[int]:
        return [sum(int(d) * (first_weight - i) for i, d in enumerate(f"{group:03d}")) for group in range(1000)]
    return table(10), table(7), table(4)
