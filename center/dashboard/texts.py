"""The dashboard's Persian, in one place: conditions, colours, openings, figures; Jalali times, Persian digits."""

from __future__ import annotations

from datetime import datetime

import jdatetime

from center.fleet.alerts import AlertState
from center.fleet.figures import Opening
from center.fleet.model import RefusalReason
from center.fleet.rules import IRAN, Colour, Condition, Finding
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
    RefusalReason.STORE_UNAVAILABLE: "پایگاه داده در دسترس نبود",
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
}


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
