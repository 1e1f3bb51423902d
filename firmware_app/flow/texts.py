"""The flow's Persian operator messages, in one place."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from protocol.messages import IneligibleReason
from protocol.national_code import to_persian_digits

IRAN = ZoneInfo("Asia/Tehran")
"""The zone of the times the operator reads (the flow keeps its own; the slip's is in `slip.persian`)."""

POLLS_NOT_OPEN_YET = "رأی‌گیری هنوز آغاز نشده است؛ ساعت آغاز: {time}."
SELF_TEST = "آزمون دستگاه‌ها پیش از آغاز رأی‌گیری…"
SELF_TEST_FAILED = "آزمون دستگاه‌ها ناموفق بود؛ رأی‌گیری آغاز نشد: {problems}"
SELF_TEST_WARNINGS = "هشدار آزمون دستگاه‌ها: {warnings}"
ZERO_REPORT_PRINTING = "چاپ گزارش صفر…"
ZERO_REPORT_FAILED = "گزارش صفر چاپ نشد ({detail})؛ رأی‌گیری آغاز نشد. چاپگر را بررسی کنید."
CLOSING_NOT_YET = "زمان پایان رأی‌گیری ساعت {time} است؛ پیش از آن نمی‌توان رأی‌گیری را بست."
CLOSING_REPORT_PRINTED = "گزارش پایان رأی‌گیری (صورتجلسه) چاپ شد."
CLOSING_REPORT_FAILED = "گزارش پایان رأی‌گیری چاپ نشد ({detail}). چاپگر را درست کنید و دوباره چاپ کنید."
EXTENDED = "ستاد زمان رأی‌گیری را تا ساعت {time} تمدید کرد."
TAMPER = "درِ دستگاه باز شده است؛ مسئول شعبه را خبر کنید."
FACE_MATCH = "چهره با عکس کارت مطابقت دارد (فاصله {distance})."
FACE_NO_MATCH = "چهره با عکس کارت مطابقت ندارد (فاصله {distance}). اگر مطمئن هستید، «تأیید با وجود عدم تطابق» را بزنید؛ وگرنه رد کنید."
FACE_UNAVAILABLE = "امتیاز چهره در دسترس نیست ({detail})؛ با دقت مقایسه کنید."
FACE_WAIT = "بررسی چهره هنوز تمام نشده است؛ چند لحظه صبر کنید."
FACE_OVERRIDE_NEEDED = "چهره مطابقت ندارد؛ برای تأیید باید «تأیید با وجود عدم تطابق» را بزنید."
FACE_OVERRIDDEN = "کاربر با وجود عدم تطابق چهره تأیید کرد؛ این تأیید ثبت و در صورتجلسه شمرده می‌شود."
POLLS_OPENING = "گزارش آغاز رأی‌گیری برای ستاد فرستاده شد؛ منتظر تأیید ستاد."
POLLS_OPEN = "رأی‌گیری آغاز شد. دستگاه آمادهٔ پذیرش رأی‌دهنده است."
CLOCK_OFF = ("ساعت دستگاه {difference} {direction} از ساعت ستاد است؛ رأی‌گیری آغاز نشد. "
             "ساعت دستگاه را تنظیم کنید و دوباره آغاز رأی‌گیری را بزنید.")
OPEN_NOT_ACKNOWLEDGED = "ستاد آغاز رأی‌گیری را تأیید نکرد؛ ارتباط را بررسی و دوباره تلاش کنید."
POLLS_SUSPENDED = "رأی‌گیری موقتاً متوقف شد."
POLLS_CLOSING = "گزارش پایان رأی‌گیری برای ستاد فرستاده شد."
POLLS_CLOSED = "رأی‌گیری در این دستگاه پایان یافت."
CLOSE_PENDING = "ستاد هنوز پایان رأی‌گیری را تأیید نکرده است؛ گزارش پس از برقراری ارتباط فرستاده می‌شود."
CONFIRM_PERSON = "چهرهٔ رأی‌دهنده را با مدرک مقایسه کنید و تأیید یا رد کنید."
OPERATOR_REJECTED = "کاربر تطابق فرد و مدرک را رد کرد؛ تعرفه صادر نمی‌شود."
CARD_REMOVED = "کارت از دستگاه خارج شد؛ برای ادامه دوباره کارت را وارد کنید."
CHECKING_PRINTER = "بررسی آمادگی چاپگر…"
PRINTER_NOT_READY = "چاپگر آماده نیست: {detail}. چیزی از ستاد پرسیده نشد؛ چاپگر را درست کنید و «تلاش دوباره» را بزنید."
ASKING_CENTER = "در حال استعلام از ستاد…"
NO_ANSWER = "پاسخی از ستاد نرسید؛ تعرفه صادر نمی‌شود. دوباره تلاش کنید یا تراکنش را باطل کنید."
UNVERIFIABLE = "پاسخ دریافتی از ستاد قابل تأیید نبود؛ تعرفه صادر نمی‌شود. دوباره تلاش کنید یا باطل کنید."
ANSWERED_LATE = ("ستاد پس از پایان مهلت پاسخ داد: این رأی‌دهنده مجاز است، ولی تعرفه خودبه‌خود چاپ نمی‌شود. "
                 "اگر رأی‌دهنده هنوز حاضر است، تعرفه را با همان کد استعلام چاپ کنید (دکمهٔ «تأیید»)؛ "
                 "وگرنه باطل کنید تا رأی‌دهنده در ستاد آزاد شود (دکمهٔ «رد» یا «انصراف»).")
DUPLICATE = "این رأی‌دهنده پیش‌تر در شعبهٔ {branch} در {time} تعرفه گرفته است؛ تعرفه صادر نمی‌شود."
INELIGIBLE = "این فرد واجد شرایط رأی دادن نیست ({reason}); تعرفه صادر نمی‌شود."
TX_VOIDED = "این تراکنش پیش‌تر باطل شده است؛ تعرفه صادر نمی‌شود."
CENTER_REJECTED = "ستاد درخواست را نپذیرفت؛ تعرفه صادر نمی‌شود. موضوع را به مسئول شعبه گزارش کنید."
PRINTING = "در حال چاپ تعرفه…"
PRINT_FAILED = "چاپ تعرفه ناموفق بود: {detail}. چاپگر را بررسی کنید، سپس «تلاش دوباره» یا «ابطال» را بزنید."
ISSUED = "تعرفه صادر شد. مهر شناسنامه را فراموش نکنید."
COMMIT_PENDING = "تعرفه صادر شد؛ تأیید ستاد پس از برقراری ارتباط فرستاده می‌شود."
VOIDED = "تراکنش باطل شد و رأی‌دهنده در ستاد آزاد شد."
RECOVERY_PRINT_OR_VOID = "پس از راه‌اندازی دوباره: ستاد مجوز صادر کرده بود ولی تعرفه چاپ نشده است. اگر رأی‌دهنده حاضر است چاپ کنید (دکمهٔ «تأیید»)، وگرنه باطل کنید (دکمهٔ «رد» یا «انصراف»)."
RECOVERY_DID_SLIP_COME_OUT = "پس از راه‌اندازی دوباره: آیا تعرفه کامل از چاپگر بیرون آمد؟"
COMMIT_DISPUTED = "ستاد صدور این تعرفه را نپذیرفت؛ مسئول شعبه باید موضوع را بررسی کند."
VOID_AFTER_COMMIT = "ستاد این تعرفه را صادرشده ثبت کرده بود و ابطال را نپذیرفت."
ANSWER_FORGED = "پیامی نامعتبر روی کانال پاسخ ستاد دریافت شد و کنار گذاشته شد."

_INELIGIBLE_REASONS = {
    IneligibleReason.NOT_ON_ROLL: "در فهرست رأی‌دهندگان نیست",
    IneligibleReason.DECEASED: "فوت‌شده ثبت شده است",
    IneligibleReason.DISQUALIFIED: "محروم از رأی",
    IneligibleReason.UNDER_AGE: "کمتر از ۱۸ سال در روز رأی‌گیری",
}


def ineligible_reason(reason: IneligibleReason | None) -> str:
    return _INELIGIBLE_REASONS[reason] if reason is not None else "نامشخص"


def decimal(value: float | None) -> str:
    """A score with two decimals in Persian digits (٫ as the decimal sign), or a dash."""
    return "—" if value is None else to_persian_digits(f"{value:.2f}").replace(".", "٫")


def clock_off(ahead: timedelta) -> str:
    """The clock notice: how far the terminal's clock is ahead of or behind the center's."""
    minutes, seconds = divmod(round(abs(ahead.total_seconds())), 60)
    hours, minutes = divmod(minutes, 60)
    amounts = ((hours, "ساعت"), (minutes, "دقیقه"), (seconds, "ثانیه"))
    parts = [f"{to_persian_digits(str(amount))} {unit}" for amount, unit in amounts if amount] or ["۰ ثانیه"]
    direction = "جلوتر" if ahead > timedelta() else "عقب‌تر"
    return CLOCK_OFF.format(difference=" و ".join(parts), direction=direction)


def clock(moment: datetime) -> str:
    """Hour and minute in Iran's time, in Persian digits."""
    return to_persian_digits(moment.astimezone(IRAN).strftime("%H:%M"))
