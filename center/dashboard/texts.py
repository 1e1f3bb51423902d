"""The dashboard's Persian, in one place: conditions, colours, openings, figures; Jalali times, Persian digits."""

from __future__ import annotations

import re
from datetime import datetime

import jdatetime

from center.aggregate import Flag
from center.fleet.alerts import AlertState
from center.fleet.figures import Opening
from center.fleet.model import RefusalReason
from center.fleet.rules import IRAN, Colour, Condition, Finding
from protocol.minutes import Check
from protocol.national_code import to_persian_digits

COLOURS: dict[Colour, str] = {Colour.GREEN: "عادی", Colour.AMBER: "هشدار", Colour.RED: "بحرانی"}
CONDITIONS: dict[Condition, str] = {
    Condition.OFFLINE: "بی‌ارتباط",
    Condition.NOT_OPENED: "شعبه باز نشده",
    Condition.PRINTER: "چاپگر",
    Condition.READER: "کارت‌خوان",
    Condition.CAMERA: "دوربین",
    Condition.CLOCK: "اختلاف ساعت",
    Condition.BACKLOG: "صف ارسال رو به افزایش",
    Condition.TAMPER: "دستکاری دستگاه",
    Condition.SOFTWARE: "نرم‌افزار تأییدنشده",
    Condition.PAPER_LOW: "کاغذ رو به اتمام",
    Condition.THROTTLED: "کاهش سرعت پردازنده",
}
DETAILS: dict[str, str] = {
    "no_paper": "کاغذ تمام شده",
    "cover_open": "درِ چاپگر باز است",
    "paper_low": "کاغذ کم است",
    "offline": "خاموش یا قطع",
    "disconnected": "جدا شده",
    "error": "خطا",
    "unconfirmed": "چاپ نامعلوم",
    "no_reader": "کارت‌خوان یافت نشد",
    "no_service": "سرویس کارت‌خوان در دسترس نیست",
    "not_found": "یافت نشد",
    "empty_frames": "تصویر خالی",
    "closed": "بسته",
    "starting": "در حال راه‌اندازی",
    "will": "پیام خداحافظی کارگزار",
    "silent": "پیامی نرسیده",
    "never_heard": "هرگز پیامی نفرستاده",
    "not_opened": "تا ساعت مقرر به‌علاوهٔ ۵ دقیقه",
    "throttled": "گزارش سخت‌افزار",
}
OPENINGS: dict[Opening, str] = {
    Opening.ON_TIME: "به‌موقع باز شد",
    Opening.LATE: "با تأخیر باز شد",
    Opening.NOT_OPENED: "باز نشده",
    Opening.NOT_DUE: "هنوز موعد نرسیده",
}
ALERT_STATES: dict[AlertState, str] = {
    AlertState.OPEN: "باز", AlertState.ACKNOWLEDGED: "دیده شد", AlertState.CLOSED: "برطرف شد",
}
REFUSALS: dict[RefusalReason, str] = {
    RefusalReason.NOT_A_FLEET_TOPIC: "موضوع نامعتبر",
    RefusalReason.EMPTY: "پیام خالی",
    RefusalReason.OVERSIZED: "بیش از اندازه",
    RefusalReason.UNKNOWN_TERMINAL: "دستگاه ثبت‌نشده",
    RefusalReason.BAD_SIGNATURE: "امضای نامعتبر",
    RefusalReason.MALFORMED: "قالب نادرست",
    RefusalReason.CROSS_TERMINAL: "به نام دستگاه دیگر",
    RefusalReason.HANDLER_FAULT: "خطای درونی",
}
COUNTERS: dict[str, str] = {
    "issued": "تعرفهٔ صادرشده",
    "reprinted": "چاپ دوباره",
    "voided": "باطل‌شده",
    "duplicates_refused": "رأی تکراری ردشده",
    "ineligible": "فاقد شرایط",
    "operator_rejected": "ردشده به تشخیص کاربر",
    "rejected_documents": "مدرک ردشده",
    "face_overrides": "تأیید با وجود عدم تطابق چهره",
    "offline_issued": "تعرفهٔ آفلاین",
}

FLAGS: dict[Flag, str] = {
    Flag.NOT_CONFORMING: "صورتجلسه با فهرست انتخابات و نامزدها نمی‌خواند و در جمع نیامد",
    Flag.FAILED_CHECK: "کنترل صورتجلسه برقرار نیست",
    Flag.BOX_OVER_SLIPS: "آرای صندوق بیش از تعرفه‌های ثبت‌شده در مرکز",
    Flag.DIFFERS_FROM_CLOSING: "تعرفه‌های صورتجلسه با گزارش پایان رأی‌گیری نمی‌خواند",
    Flag.CONFLICT: "دو صورتجلسهٔ متفاوت از شعبه؛ هیچ‌کدام در جمع نیامد",
    Flag.TURNOUT_OUTLIER: "نسبت آرای صندوق به تعرفه‌ها دور از میانهٔ ناحیه",
    Flag.SHARE_OUTLIER: "سهم یک نامزد دور از میانهٔ ناحیه",
    Flag.OTHER_BUNDLE: "صورتجلسه برای بستهٔ انتخاباتی دیگری است",
    Flag.BEFORE_CLOSING: "صورتجلسه پیش از گزارش پایان رأی‌گیری رسید",
}
CHECKS: dict[Check, str] = {
    Check.PAPERS_BALANCE: "تراز برگ‌های رأی",
    Check.BOX_MATCHES_VOTES: "آرای صندوق و جمع آرا",
    Check.BOX_WITHIN_SLIPS: "آرای صندوق و تعرفه‌های دستگاه",
    Check.BOX_WITHIN_CENTER: "آرای صندوق و تعرفه‌های مرکز",
}


def flag(kind: Flag, detail: str) -> str:
    """One flag as the staff read it; a failed check says which."""
    if kind is Flag.FAILED_CHECK:
        check = next((c for c in Check if detail.startswith(f"{c.value}:")), None)
        if check is not None:
            return f"{FLAGS[kind]}: {CHECKS[check]}"
    return FLAGS[kind]


_DETAILS: dict[Flag, tuple[re.Pattern[str], str]] = {
    Flag.FAILED_CHECK: (re.compile(r"[a-z_]+: (\d+) against (\d+)"), "{0} در برابر {1}"),
    Flag.BOX_OVER_SLIPS: (re.compile(r"(\d+) in the box, (\d+) slips committed"),
                          "{0} رأی در صندوق، {1} تعرفهٔ ثبت‌شده در مرکز"),
    Flag.DIFFERS_FROM_CLOSING: (re.compile(r"minutes (\d+) slips, closing report (\d+)"),
                                "صورتجلسه {0} تعرفه، گزارش پایان رأی‌گیری {1}"),
    Flag.TURNOUT_OUTLIER: (re.compile(r"box/slips (\d+\.\d+)"), "آرای صندوق به تعرفه {0}"),
    Flag.SHARE_OUTLIER: (re.compile(r"([A-Z0-9-]+) (\d+\.\d+)"), "{0}: سهم {1}"),
}
"""What center.aggregate writes in each flag's detail, and how the staff read it."""


def flag_detail(kind: Flag, detail: str, names: dict[str, str]) -> str:
    """A flag's detail in Persian: figures in Persian digits, a candidate by name; hashes, terminal names and
    codes as they are (the page shows them left to right). A detail of an unknown shape is shown as it is."""
    if kind in (Flag.CONFLICT, Flag.OTHER_BUNDLE):
        return "، ".join(f"{digest[:12]}…" for digest in detail.split(",") if digest)
    if kind is Flag.BEFORE_CLOSING:
        return f"دستگاه {detail}"
    shape = _DETAILS.get(kind)
    found = shape[0].fullmatch(detail) if shape is not None else None
    if shape is None or found is None:
        return detail
    parts = [names.get(part, part) if not part[0].isdigit() else decimal(part) if "." in part else digits(part)
             for part in found.groups()]
    return shape[1].format(*parts)


def decimal(text: str | None) -> str:
    """A decimal such as 83.72 in Persian digits with the Persian decimal separator; a dash for none."""
    return "—" if text is None else to_persian_digits(text).replace(".", "٫")


def digits(value: int | str) -> str:
    return to_persian_digits(str(value))


def jalali(moment: datetime | None) -> str:
    """Jalali date and time in Tehran, Persian digits; a dash for none."""
    if moment is None:
        return "—"
    local = jdatetime.datetime.fromgregorian(datetime=moment.astimezone(IRAN))
    return to_persian_digits(local.strftime("%Y/%m/%d %H:%M:%S"))


def clock(moment: datetime | None) -> str:
    """Only the time of day (Tehran), Persian digits."""
    return "—" if moment is None else to_persian_digits(moment.astimezone(IRAN).strftime("%H:%M"))


def hour_label(moment: datetime) -> str:
    return to_persian_digits(moment.astimezone(IRAN).strftime("%H"))


def finding(found: Finding) -> str:
    """One condition as the staff read it: what, and the status value or number behind it."""
    name = CONDITIONS[found.condition]
    if found.condition is Condition.CLOCK:
        return f"{name}: {digits(round(int(found.detail) / 1000))} ثانیه"
    if found.condition in (Condition.BACKLOG, Condition.TAMPER):
        return f"{name}: {digits(found.detail)}"
    if found.condition is Condition.SOFTWARE:
        return f"{name}: {found.detail}"
    return f"{name}: {DETAILS.get(found.detail, found.detail)}"
