"""The flow's Persian operator messages, in one place."""

from __future__ import annotations

from datetime import datetime

from protocol.messages import IneligibleReason
from protocol.national_code import to_persian_digits

POLLS_NOT_OPEN_YET = "رأی‌گیری هنوز آغاز نشده است؛ ساعت آغاز: {time}."
POLLS_OPENING = "گزارش آغاز رأی‌گیری برای ستاد فرستاده شد؛ منتظر تأیید ستاد."
POLLS_OPEN = "رأی‌گیری آغاز شد. دستگاه آمادهٔ پذیرش رأی‌دهنده است."
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
DUPLICATE = "این رأی‌دهنده پیش‌تر در شعبهٔ {branch} در {time} تعرفه گرفته است؛ تعرفه صادر نمی‌شود."
INELIGIBLE = "این فرد واجد شرایط رأی دادن نیست ({reason}); تعرفه صادر نمی‌شود."
TX_VOIDED = "این تراکنش پیش‌تر باطل شده است؛ تعرفه صادر نمی‌شود."
CENTER_REJECTED = "ستاد درخواست را نپذیرفت؛ تعرفه صادر نمی‌شود. موضوع را به مسئول شعبه گزارش کنید."
PRINTING = "در حال چاپ تعرفه…"
PRINT_FAILED = "چاپ تعرفه ناموفق بود: {detail}. چاپگر را بررسی کنید، سپس «تلاش دوباره» یا «ابطال» را بزنید."
ISSUED = "تعرفه صادر شد. مهر شناسنامه را فراموش نکنید."
COMMIT_PENDING = "تعرفه صادر شد؛ تأیید ستاد پس از برقراری ارتباط فرستاده می‌شود."
VOIDED = "تراکنش باطل شد و رأی‌دهنده در ستاد آزاد شد."
RECOVERY_PRINT_OR_VOID = "پس از راه‌اندازی دوباره: ستاد مجوز صادر کرده بود ولی تعرفه چاپ نشده است. اگر رأی‌دهنده حاضر است چاپ کنید، وگرنه باطل کنید."
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


def clock(moment: datetime) -> str:
    """Hour and minute in Persian digits (local time of the given moment)."""
    return to_persian_digits(moment.strftime("%H:%M"))
