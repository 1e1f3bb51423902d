"""Persian wording for the slip and reports: digits, Jalali dates, document kinds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from protocol.messages import DocumentKind

IRAN = ZoneInfo("Asia/Tehran")

_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)

DOCUMENT_NAMES: dict[DocumentKind, str] = {
    DocumentKind.SMART_CARD: "کارت هوشمند ملی",
    DocumentKind.BIRTH_CERTIFICATE: "شناسنامه",
    DocumentKind.OLD_CARD: "کارت ملی قدیمی",
}


def persian_digits(text: str) -> str:
    """ASCII digits to Persian digits (۰..۹); everything else unchanged."""
    return text.translate(_DIGITS)


def jalali_date_time(moment: datetime) -> str:
    """An aware moment as Iran's wall clock in the Jalali calendar: ۸ آذر ۱۴۰۵، ساعت ۱۴:۳۵."""
    if moment.tzinfo is None:
        raise ValueError("a slip's time must be timezone-aware")
    local = jdatetime.datetime.fromgregorian(datetime=moment.astimezone(IRAN))
    month = JALALI_MONTHS[local.month - 1]
    return persian_digits(f"{local.day} {month} {local.year}، ساعت {local.hour:02d}:{local.minute:02d}")
