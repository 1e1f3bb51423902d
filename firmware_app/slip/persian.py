"""Persian wording for the slip and reports: digits, Jalali dates, document kinds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from protocol.messages import DocumentKind
from protocol.national_code import to_persian_digits

IRAN = ZoneInfo("Asia/Tehran")


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


def jalali_date_time(moment: datetime) -> str:
    """An aware moment as Iran's wall clock in the Jalali calendar: ۸ آذر ۱۴۰۵، ساعت ۱۴:۳۵."""
    if moment.tzinfo is None:
        raise ValueError("a slip's time must be timezone-aware")
    local = jdatetime.datetime.fromgregorian(datetime=moment.astimezone(IRAN))
    month = JALALI_MONTHS[local.month - 1]
    return to_persian_digits(f"{local.day} {month} {local.year}، ساعت {local.hour:02d}:{local.minute:02d}")
