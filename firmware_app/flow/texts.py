"""The operator's Persian, in one place: `render(notice)` for every notice the flow gives, keyed by its reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never
from zoneinfo import ZoneInfo

from firmware_app.flow.double_entry import EntriesDiffer, SameOfficial
from firmware_app.flow.events import OverrideReason
from firmware_app.flow.notices import (
    ClockOff,
    ClosingNotYet,
    ClosingReportFailed,
    Component,
    DocumentRefused,
    Duplicate,
    Extended,
    FaceResult,
    Finding,
    Ineligible,
    InstructionsArrived,
    MinutesReportFailed,
    Notice,
    NotOpenYet,
    PermitRefused,
    PrinterUnready,
    Say,
    SelfTestFailed,
    SelfTestWarnings,
    SlipNotPrinted,
    ZeroReportFailed,
)
from firmware_app.identity.document import DocumentProblem
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from hal.printer import PrinterState, PrinterStatus
from protocol.messages import IneligibleReason
from protocol.minutes import MinutesProblem, MinutesRefused
from protocol.national_code import NationalCodeProblem, to_persian_digits
from protocol.permit import PermitRefusal

IRAN = ZoneInfo("Asia/Tehran")
"""The zone of the times the operator reads (the flow keeps its own; the slip's is in `slip.persian`)."""

SAID: dict[Say, str] = {
    Say.SELF_TEST: "آزمون دستگاه‌ها پیش از آغاز رأی‌گیری…",
    Say.ZERO_REPORT_PRINTING: "چاپ گزارش صفر…",
    Say.CLOSING_REPORT_PRINTED: "گزارش پایان رأی‌گیری (صورتجلسه) چاپ شد.",
    Say.TAMPER: "درِ دستگاه باز شده است؛ مسئول شعبه را خبر کنید.",
    Say.FACE_WAIT: "بررسی چهره هنوز تمام نشده است؛ چند لحظه صبر کنید.",
    Say.FACE_OVERRIDE_NEEDED: "چهره مطابقت ندارد؛ برای تأیید باید «تأیید با وجود عدم تطابق» را بزنید.",
    Say.FACE_OVERRIDDEN: "کاربر با وجود عدم تطابق چهره تأیید کرد؛ این تأیید ثبت و در صورتجلسه شمرده می‌شود.",
    Say.POLLS_OPENING: "گزارش آغاز رأی‌گیری برای ستاد فرستاده شد؛ منتظر تأیید ستاد.",
    Say.POLLS_OPEN: "رأی‌گیری آغاز شد. دستگاه آمادهٔ پذیرش رأی‌دهنده است.",
    Say.OPEN_NOT_ACKNOWLEDGED: "ستاد آغاز رأی‌گیری را تأیید نکرد؛ ارتباط را بررسی و دوباره تلاش کنید.",
    Say.POLLS_SUSPENDED: "رأی‌گیری موقتاً متوقف شد.",
    Say.POLLS_CLOSING: "گزارش پایان رأی‌گیری برای ستاد فرستاده شد.",
    Say.POLLS_CLOSED: "رأی‌گیری در این دستگاه پایان یافت.",
    Say.CLOSE_PENDING: "ستاد هنوز پایان رأی‌گیری را تأیید نکرده است؛ گزارش پس از برقراری ارتباط فرستاده می‌شود.",
    Say.CONFIRM_PERSON: "چهرهٔ رأی‌دهنده را با مدرک مقایسه کنید و تأیید یا رد کنید.",
    Say.OPERATOR_REJECTED: "کاربر تطابق فرد و مدرک را رد کرد؛ تعرفه صادر نمی‌شود.",
    Say.CARD_REMOVED: "کارت از دستگاه خارج شد؛ برای ادامه دوباره کارت را وارد کنید.",
    Say.CARD_NOT_NOW: "کارت خوانده نشد: دستگاه اکنون کار دیگری دارد. کار جاری را تمام کنید، سپس کارت را دوباره وارد کنید.",
    Say.CHECKING_PRINTER: "بررسی آمادگی چاپگر…",
    Say.ASKING_CENTER: "در حال استعلام از ستاد…",
    Say.NO_ANSWER: "پاسخی از ستاد نرسید؛ تعرفه صادر نمی‌شود. دوباره تلاش کنید یا تراکنش را باطل کنید.",
    Say.UNVERIFIABLE: "پاسخ دریافتی از ستاد قابل تأیید نبود؛ تعرفه صادر نمی‌شود. دوباره تلاش کنید یا باطل کنید.",
    Say.ANSWERED_LATE: ("ستاد پس از پایان مهلت پاسخ داد: این رأی‌دهنده مجاز است، ولی تعرفه خودبه‌خود چاپ نمی‌شود. "
                        "اگر رأی‌دهنده هنوز حاضر است، تعرفه را با همان کد استعلام چاپ کنید (دکمهٔ «تأیید»)؛ "
                        "وگرنه باطل کنید تا رأی‌دهنده در ستاد آزاد شود (دکمهٔ «رد» یا «انصراف»)."),
    Say.TX_VOIDED: "این تراکنش پیش‌تر باطل شده است؛ تعرفه صادر نمی‌شود.",
    Say.CENTER_REJECTED: "ستاد درخواست را نپذیرفت؛ تعرفه صادر نمی‌شود. موضوع را به مسئول شعبه گزارش کنید.",
    Say.PRINTING: "در حال چاپ تعرفه…",
    Say.ISSUED: "تعرفه صادر شد. مهر شناسنامه را فراموش نکنید.",
    Say.COMMIT_PENDING: "تعرفه صادر شد؛ تأیید ستاد پس از برقراری ارتباط فرستاده می‌شود.",
    Say.VOIDED: "تراکنش باطل شد و رأی‌دهنده در ستاد آزاد شد.",
    Say.RECOVERY_PRINT_OR_VOID: ("پس از راه‌اندازی دوباره: ستاد مجوز صادر کرده بود ولی تعرفه چاپ نشده است. اگر "
                                 "رأی‌دهنده حاضر است چاپ کنید (دکمهٔ «تأیید»)، وگرنه باطل کنید (دکمهٔ «رد» یا «انصراف»)."),
    Say.RECOVERY_DID_SLIP_COME_OUT: ("پس از راه‌اندازی دوباره: آیا تعرفه کامل از چاپگر بیرون آمد؟ "
                                     "بله: دکمهٔ «تأیید»؛ نه، دوباره چاپ شود: دکمهٔ «رد»."),
    Say.COMMIT_DISPUTED: "ستاد صدور این تعرفه را نپذیرفت؛ مسئول شعبه باید موضوع را بررسی کند.",
    Say.VOID_AFTER_COMMIT: "ستاد این تعرفه را صادرشده ثبت کرده بود و ابطال را نپذیرفت.",
    Say.OFFLINE_ACTIVE: "حالت آفلاین با مجوز ستاد فعال شد: تعرفه‌ها بدون استعلام برخط و با کد آفلاین صادر می‌شوند و "
                        "پس از برقراری ارتباط با ستاد تطبیق داده می‌شوند.",
    Say.CHECKING_OFFLINE: "آفلاین: بررسی رأی‌دهنده در تعرفه‌های همین دستگاه و فهرست «رأی داده‌اند» ستاد…",
    Say.ISSUED_OFFLINE: "تعرفهٔ آفلاین صادر شد؛ سابقهٔ آن نگه داشته شد و پس از برقراری ارتباط برای ستاد فرستاده "
                        "می‌شود.",
    Say.BACK_ONLINE: "ارتباط با ستاد برقرار شد؛ حالت آفلاین پایان یافت و استعلام برخط از سر گرفته شد.",
    Say.PERMIT_ENDED: "ستاد مجوز کار آفلاین را پایان داد؛ پس از این تعرفهٔ آفلاین صادر نمی‌شود.",
    Say.PERMIT_HELD: "مجوز کار آفلاین ستاد دریافت شد؛ تنها با کد ستاد و با حضور رئیس شعبه فعال می‌شود.",
    Say.NO_PERMIT: "این دستگاه مجوز کار آفلاین ندارد؛ بدون مجوز ستاد تعرفه‌ای بدون استعلام صادر نمی‌شود.",
    Say.PERMIT_WHEN_IDLE: "مجوز آفلاین تنها وقتی فعال می‌شود که رأی‌دهنده‌ای در جریان نباشد.",
    Say.PERMIT_ACTIVATION_OFFERED: "ستاد مجوز کار آفلاین این شعبه را فعال کرد؛ با تأیید رئیس شعبه آغاز می‌شود.",
    Say.NO_ACTIVATION_OFFERED: "فعال‌سازی‌ای از ستاد در انتظار تأیید نیست.",
    Say.SNAPSHOT_HIT: "در فهرست «رأی داده‌اند» ستاد، این رأی‌دهنده ممکن است پیش‌تر رأی داده باشد؛ تعرفه تنها با "
                      "تصمیم رئیس شعبه صادر می‌شود.",
    Say.SNAPSHOT_HIT_ALLOWED: "رئیس شعبه با وجود نام رأی‌دهنده در فهرست «رأی داده‌اند» صدور تعرفه را پذیرفت؛ ثبت "
                              "و به ستاد گزارش شد.",
    Say.OFFLINE_ALREADY_ISSUED: "این رأی‌دهنده امروز از همین دستگاه تعرفه گرفته است؛ تعرفه صادر نمی‌شود.",
    Say.OFFLINE_ISSUED_AT_BRANCH: "دستگاه دیگری از این شعبه امروز برای این رأی‌دهنده تعرفهٔ آفلاین صادر کرده است؛ "
                                  "تعرفه صادر نمی‌شود.",
    Say.DOUBLE_VOTE_FOUND: "ستاد رأی‌دهندهٔ یکی از تعرفه‌های آفلاین این دستگاه را دارای تعرفهٔ دیگری یافت و رأی "
                           "تکراری ثبت کرد؛ مسئول شعبه باید آن را به ستاد گزارش کند.",
    Say.OFFLINE_RECORD_REJECTED: "ستاد سابقهٔ یکی از تعرفه‌های آفلاین این دستگاه را نپذیرفت؛ مسئول شعبه باید با "
                                 "ستاد تماس بگیرد.",
    Say.OFFLINE_CONFLICT: "ستاد برای کد یکی از تعرفه‌های آفلاین این دستگاه سابقهٔ دیگری هم دارد؛ هر دو نگه داشته "
                          "شد و ستاد آن را بررسی می‌کند.",
    Say.ANSWER_FORGED: "پیامی نامعتبر روی کانال پاسخ ستاد دریافت شد و کنار گذاشته شد.",
    Say.SLIP_QUESTION_FIRST: "نخست بگویید آیا تعرفه کامل بیرون آمد: «تأیید» برای بله، «رد» برای چاپ دوباره.",
    Say.CLOSE_ACKNOWLEDGED: "ستاد پایان رأی‌گیری را تأیید کرد.",
    Say.MINUTES_AFTER_CLOSE: "صورتجلسه پس از پایان رأی‌گیری و تأیید آن وارد می‌شود.",
    Say.NO_ELECTION: ("بستهٔ انتخابات (فهرست انتخابات و نامزدها) روی این دستگاه نیست؛ صورتجلسه را نمی‌توان ثبت کرد. "
                      "مسئول فنی فرمانداری را خبر کنید."),
    Say.BAD_OFFICIAL: "ورود صورتجلسه فقط به نام یکی از اعضای واردشدهٔ شعبه پذیرفته می‌شود.",
    Say.MINUTES_FIRST_HELD: ("ورود نخست صورتجلسه نگه داشته شد و نمایش داده نمی‌شود. اکنون عضو دیگری از شعبه، "
                             "جدا از او، همهٔ ارقام را از روی برگه‌های شمارش وارد کند."),
    Say.MINUTES_ENTRY_DISCARDED: "ورود نخست کنار گذاشته شد؛ صورتجلسه را دوباره وارد کنید.",
    Say.MINUTES_AGREED: "دو ورود یکسان بود: صورتجلسه ثبت شد و چاپ و برای ستاد فرستاده می‌شود.",
    Say.MINUTES_PRINTED: "صورتجلسه چاپ شد؛ اعضای شعبه و نمایندگان نامزدها آن را امضا کنند.",
    Say.MINUTES_PENDING: ("ستاد هنوز دریافت صورتجلسه را تأیید نکرده است؛ همان صورتجلسه تا پاسخ ستاد دوباره "
                          "فرستاده می‌شود. دستگاه را خاموش نکنید."),
    Say.MINUTES_SENT: "ستاد صورتجلسهٔ این شعبه را ثبت کرد.",
    Say.MINUTES_CONFLICT: ("ستاد صورتجلسهٔ دیگری از این دستگاه را پیش‌تر ثبت کرده است؛ هر دو نگه داشته شد و "
                           "فرمانداری دربارهٔ آن تصمیم می‌گیرد. رئیس شعبه را خبر کنید."),
    Say.MINUTES_ALREADY_RECORDED: ("صورتجلسه پیش‌تر ثبت شده است و جایگزین نمی‌شود؛ برای نسخهٔ دیگر «چاپ مجدد "
                                   "صورتجلسه» را بزنید."),
}

MINUTES_PROBLEMS: dict[MinutesProblem, str] = {
    MinutesProblem.NO_SEALS: "شمارهٔ پلمب صندوق وارد نشده است",
    MinutesProblem.TOO_MANY_SEALS: "شمارهٔ پلمب‌ها بیش از اندازه است",
    MinutesProblem.BAD_SEAL: "شمارهٔ پلمب فقط از حروف بزرگ لاتین، رقم و خط تیره است",
    MinutesProblem.ELECTIONS_DIFFER: "انتخابات صورتجلسه با فهرست انتخابات روز نمی‌خواند",
    MinutesProblem.CANDIDATES_DIFFER: "نامزدهای صورتجلسه با فهرست نامزدها نمی‌خواند",
    MinutesProblem.OUT_OF_RANGE: "عددی بیرون از بازهٔ مجاز است",
}

FIGURE_LABELS: dict[str, str] = {
    "seals": "شمارهٔ پلمب‌ها",
    "received": "برگ رأی دریافتی",
    "used": "برگ رأی مصرف‌شده",
    "spoiled": "برگ رأی باطل‌شده",
    "unused": "برگ رأی مصرف‌نشده",
    "in_box": "آرای داخل صندوق",
    "invalid": "آرای باطل",
}
"""The minutes' figures as the form and the printed minutes name them (votes are named by the candidate)."""

DOCUMENT_PROBLEMS: dict[DocumentProblem, str] = {
    DocumentProblem.BAD_NATIONAL_CODE: "کد ملی ثبت‌شده در کارت معتبر نیست؛ کارت پذیرفته نمی‌شود. از شناسنامه استفاده کنید.",
    DocumentProblem.UNREADABLE: "کارت خوانده نشد؛ کارت را بیرون بیاورید و دوباره وارد کنید.",
    DocumentProblem.REMOVED_MID_READ: ("کارت پیش از پایان خواندن بیرون آمد؛ کارت را دوباره وارد کنید و تا پایان "
                                       "خواندن نگه دارید."),
    DocumentProblem.TIMED_OUT: ("کارت در زمان مقرر پاسخ نداد؛ کارت را بیرون بیاورید و دوباره وارد کنید. "
                                "اگر باز هم پاسخ نداد، شناسنامه بخواهید و کد ملی را دستی وارد کنید."),
    DocumentProblem.WRONG_APPLICATION: "این کارت، کارت ملی هوشمند نیست؛ کارت ملی هوشمند یا شناسنامه بخواهید.",
    DocumentProblem.DATA_ALTERED: "اطلاعات کارت دست‌کاری شده است؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه گزارش دهید.",
    DocumentProblem.SIGNATURE_INVALID: ("امضای صادرکنندهٔ کارت نامعتبر است؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس "
                                        "شعبه گزارش دهید."),
    DocumentProblem.SIGNER_UNTRUSTED: ("صادرکنندهٔ کارت شناخته‌شده نیست؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه "
                                       "گزارش دهید."),
    DocumentProblem.CLONE_SUSPECTED: ("تراشهٔ کارت اصل نیست (احتمال کارت جعلی)؛ کارت پذیرفته نمی‌شود. موضوع را به "
                                      "رئیس شعبه گزارش دهید."),
    DocumentProblem.EXPIRED: "اعتبار کارت ملی به پایان رسیده است؛ شناسنامه بخواهید و کد ملی را دستی وارد کنید.",
}

NATIONAL_CODE_PROBLEMS: dict[NationalCodeProblem, str] = {
    NationalCodeProblem.EMPTY: "کد ملی وارد نشده است.",
    NationalCodeProblem.NOT_A_DIGIT: "کد ملی فقط از رقم تشکیل می‌شود؛ نویسهٔ «{character}» در جایگاه {position} مجاز نیست.",
    NationalCodeProblem.WRONG_LENGTH: "کد ملی باید ۱۰ رقم باشد؛ {count} رقم وارد شده است.",
    NationalCodeProblem.ALL_SAME_DIGITS: "کد ملی با ده رقم یکسان معتبر نیست.",
    NationalCodeProblem.CHECK_DIGIT: "رقم کنترل کد ملی درست نیست؛ کد را دوباره از روی مدرک بخوانید.",
}

TYPED_FOR_A_CARD = "کد تایپ‌شده نمی‌تواند جای کارت هوشمند را بگیرد؛ کارت را در کارت‌خوان بگذارید."

FACE_PROBLEMS: dict[FaceProblem, str] = {
    FaceProblem.NO_PHOTO: "مدرک عکس ندارد",
    FaceProblem.NO_CAMERA: "دوربین نصب نیست",
    FaceProblem.CAMERA_NOT_WORKING: "دوربین تصویری نمی‌دهد",
    FaceProblem.CHECK_FAULT: "خطای داخلی بررسی چهره",
    FaceProblem.CARD_PHOTO_UNREADABLE: "عکس کارت خوانده نشد؛ چهره را خودتان با عکس روی کارت مقایسه کنید",
    FaceProblem.CARD_PHOTO_NO_FACE: "در عکس کارت چهره‌ای پیدا نشد؛ چهره را خودتان با عکس روی کارت مقایسه کنید",
    FaceProblem.NO_FACE: "چهره‌ای دیده نمی‌شود؛ رأی‌دهنده روبه‌روی دوربین بایستد و به آن نگاه کند",
    FaceProblem.SEVERAL_FACES: "بیش از یک چهره در تصویر است؛ فقط رأی‌دهنده جلوی دوربین بماند",
    FaceProblem.FACE_CUT_OFF: "چهره کامل در کادر نیست؛ رأی‌دهنده وسط کادر بایستد",
    FaceProblem.FACE_TOO_SMALL: "چهره خیلی کوچک است؛ رأی‌دهنده نزدیک‌تر بیاید",
    FaceProblem.TOO_DARK: "تصویر تاریک است؛ نور محل را بیشتر کنید یا چراغ را روبه‌روی رأی‌دهنده بگذارید",
    FaceProblem.TOO_BRIGHT: "تصویر بیش از حد روشن است؛ نور مستقیم روی چهره را کم کنید",
    FaceProblem.BLURRED: "تصویر تار است؛ رأی‌دهنده چند لحظه بی‌حرکت بماند و عدسی دوربین را تمیز کنید",
}

PRINTER_STATES: dict[PrinterState, str] = {
    PrinterState.READY: "آماده",
    PrinterState.PAPER_LOW: "کاغذ رو به پایان است",
    PrinterState.NO_PAPER: "کاغذ تمام شده است",
    PrinterState.COVER_OPEN: "درِ چاپگر باز است",
    PrinterState.OFFLINE: "چاپگر خاموش یا برون‌خط است",
    PrinterState.DISCONNECTED: "چاپگر وصل نیست",
    PrinterState.ERROR: "چاپگر خطا دارد",
    PrinterState.UNCONFIRMED: "چاپگر پایان چاپ را تأیید نکرد؛ ممکن است تعرفه بیرون آمده باشد",
}

COMPONENTS: dict[Component, str] = {
    Component.PRINTER: "چاپگر",
    Component.CENTER_LINK: "ارتباط با ستاد",
    Component.CARD_READER: "کارت‌خوان",
    Component.CAMERA: "دوربین",
}

CONDITIONS: dict[str, str] = {
    **{state.value: text for state, text in PRINTER_STATES.items()},
    "unreachable": "برقرار نیست",
    "fault": "خطای داخلی",
    "no_reader": "کارت‌خوان پیدا نشد",
    "no_service": "سرویس کارت‌خوان در دسترس نیست",
    "not_found": "پیدا نشد",
    "starting": "در حال راه‌اندازی",
    "empty_frames": "تصویر خالی می‌دهد",
    "closed": "بسته است",
    "no_card": "آماده، بدون کارت",
    "card_present": "کارت در کارت‌خوان است",
    "connected": "متصل",
}
"""Status values the self-test reports (printer, reader and camera states, the link), as the operator reads them."""

INELIGIBLE_REASONS: dict[IneligibleReason, str] = {
    IneligibleReason.NOT_ON_ROLL: "در فهرست رأی‌دهندگان نیست",
    IneligibleReason.DECEASED: "فوت‌شده ثبت شده است",
    IneligibleReason.DISQUALIFIED: "محروم از رأی",
    IneligibleReason.UNDER_AGE: "کمتر از ۱۸ سال در روز رأی‌گیری",
}


def render(notice: Notice) -> str:
    """The Persian sentence for a notice."""
    match notice:
        case Say():
            return SAID[notice]
        case NotOpenYet(opens_at=opens_at):
            return f"رأی‌گیری هنوز آغاز نشده است؛ ساعت آغاز: {clock(opens_at)}."
        case ClosingNotYet(closes_at=closes_at):
            return f"زمان پایان رأی‌گیری ساعت {clock(closes_at)} است؛ پیش از آن نمی‌توان رأی‌گیری را بست."
        case SelfTestFailed(problems=problems):
            return f"آزمون دستگاه‌ها ناموفق بود؛ رأی‌گیری آغاز نشد: {findings(problems)}"
        case SelfTestWarnings(warnings=warnings):
            return f"هشدار آزمون دستگاه‌ها: {findings(warnings)}"
        case ZeroReportFailed(status=status):
            return f"گزارش صفر چاپ نشد ({printer_status(status)})؛ رأی‌گیری آغاز نشد. چاپگر را بررسی کنید."
        case ClosingReportFailed(status=status):
            return (f"گزارش پایان رأی‌گیری چاپ نشد ({printer_status(status)}). "
                    "چاپگر را درست کنید و دوباره چاپ کنید.")
        case MinutesReportFailed(status=status):
            return f"صورتجلسه چاپ نشد ({printer_status(status)}). چاپگر را درست کنید و «چاپ مجدد صورتجلسه» را بزنید."
        case InstructionsArrived(title=title):
            return f"شیوه‌نامهٔ شمارش آرا از ستاد رسید: «{title}». پیش از شمارش آن را بخوانید."
        case MinutesRefused(problem=problem, where=where):
            return f"این ارقام پذیرفته نشد: {MINUTES_PROBLEMS[problem]} ({figure_name(where)})."
        case EntriesDiffer(fields=fields):
            return ("دو ورود یکسان نبود و هیچ‌یک نگه داشته نشد. این موارد را دوباره از روی برگه‌ها بشمارید و هر دو "
                    f"عضو از نو وارد کنید: {'، '.join(figure_name(name) for name in fields)}.")
        case SameOfficial(official=official):
            return f"ورود دوم را باید عضو دیگری از شعبه انجام دهد؛ ورود نخست را «{official}» انجام داده است."
        case Extended(until=until):
            return f"ستاد زمان رأی‌گیری را تا ساعت {clock(until)} تمدید کرد."
        case ClockOff(ahead=ahead):
            return clock_off(ahead)
        case FaceResult():
            return face(notice)
        case DocumentRefused():
            return document_refused(notice)
        case PrinterUnready(status=status):
            return (f"چاپگر آماده نیست: {printer_status(status)}. چیزی از ستاد پرسیده نشد؛ چاپگر را درست کنید و "
                    "«تلاش دوباره» را بزنید.")
        case SlipNotPrinted(status=status):
            detail = printer_status(status) if status is not None else "پیش از راه‌اندازی دوباره"
            return f"چاپ تعرفه ناموفق بود: {detail}. چاپگر را بررسی کنید، سپس «تلاش دوباره» یا «ابطال» را بزنید."
        case Duplicate(first_branch=branch, first_at=first_at):
            at = clock(first_at) if first_at is not None else "؟"
            return f"این رأی‌دهنده پیش‌تر در شعبهٔ {branch or '؟'} در {at} تعرفه گرفته است؛ تعرفه صادر نمی‌شود."
        case Ineligible(reason=reason):
            why = INELIGIBLE_REASONS[reason] if reason is not None else "نامشخص"
            return f"این فرد واجد شرایط رأی دادن نیست ({why})؛ تعرفه صادر نمی‌شود."
        case PermitRefused(refusal=refusal):
            return f"مجوز آفلاین پذیرفته نشد: {PERMIT_REFUSALS[refusal]}."
        case _:
            assert_never(notice)


PERMIT_REFUSALS: dict[PermitRefusal, str] = {
    PermitRefusal.FOREIGN_DISTRICT: "مجوز برای حوزهٔ دیگری است",
    PermitRefusal.FOREIGN_BRANCH: "مجوز برای شعبهٔ دیگری است",
    PermitRefusal.FOREIGN_TERMINAL: "مجوز این دستگاه را نام نمی‌برد",
    PermitRefusal.OTHER_PERMIT: "پیام برای مجوز دیگری است",
    PermitRefusal.MALFORMED: "مجوز نادرست است",
    PermitRefusal.NOT_YET_VALID: "زمان مجوز هنوز نرسیده است",
    PermitRefusal.EXPIRED: "زمان مجوز گذشته است",
    PermitRefusal.ENDED: "ستاد مجوز را پایان داده است",
    PermitRefusal.PATH_NOT_ALLOWED: "این مجوز از این راه فعال نمی‌شود",
    PermitRefusal.NOT_A_CODE: "کد نادرست وارد شد (رقم کنترل نمی‌خواند)؛ دوباره با دقت وارد کنید",
    PermitRefusal.BAD_CODE: "کد با مجوز نمی‌خواند",
    PermitRefusal.REUSED_CODE: "این کد پیش‌تر به کار رفته است؛ کد تازه از ستاد بگیرید",
    PermitRefusal.LOCKED_OUT: "کدهای نادرست بسیار وارد شد و فعال‌سازی با کد بسته شد؛ با ستاد تماس بگیرید",
    PermitRefusal.STALE_ACTIVATION: "پیام فعال‌سازی ستاد کهنه است",
    PermitRefusal.NOT_ACTIVATED: "مجوز فعال نشده است",
    PermitRefusal.OVER_LIMIT: "سقف تعرفه‌های آفلاین این مجوز پر شده است",
}
"""Why an offline permit's code, activation or slip was refused, as the head of branch reads it."""


OVERRIDE_REASONS: dict[OverrideReason, str] = {
    OverrideReason.PHOTO_OUTDATED: "عکس کارت قدیمی است",
    OverrideReason.APPEARANCE_CHANGED: "چهره تغییر کرده است (ریش، عینک، پوشش، آرایش)",
    OverrideReason.CAMERA_CONDITIONS: "نور یا دوربین مناسب نیست",
    OverrideReason.IDENTITY_CONFIRMED_OTHERWISE: "هویت با مدرک عکس‌دار دیگری تأیید شد",
}
"""Why two officials overrode a face mismatch, as the screen offers it to the head of branch."""


def face(result: FaceResult) -> str:
    distance = decimal(result.distance)
    match result.verdict:
        case FaceVerdict.MATCH:
            return f"چهره با عکس کارت مطابقت دارد (فاصله {distance})."
        case FaceVerdict.NO_MATCH:
            return (f"چهره با عکس کارت مطابقت ندارد (فاصله {distance}). اگر مطمئن هستید، «تأیید با وجود عدم "
                    "تطابق» را بزنید؛ وگرنه رد کنید.")
        case FaceVerdict.UNAVAILABLE:
            detail = FACE_PROBLEMS[result.problem] if result.problem is not None else "نامشخص"
            return f"امتیاز چهره در دسترس نیست ({detail})؛ با دقت مقایسه کنید."
        case FaceVerdict.PENDING:
            return SAID[Say.FACE_WAIT]
        case _:
            assert_never(result.verdict)


def document_refused(refused: DocumentRefused) -> str:
    match refused.problem:
        case None:
            return TYPED_FOR_A_CARD
        case DocumentProblem():
            return DOCUMENT_PROBLEMS[refused.problem]
        case NationalCodeProblem():
            return NATIONAL_CODE_PROBLEMS[refused.problem].format(
                character=refused.character, position=to_persian_digits(str(refused.position)),
                count=to_persian_digits(str(refused.count)))
        case _:
            assert_never(refused.problem)


def figure_name(where: str) -> str:
    """A field of the minutes (`seals`, `counts.PRES.in_box`, `counts.PRES.votes.P2`) as the officials read it."""
    parts = where.split(".")
    if parts[0] != "counts" or len(parts) < 2:
        return FIGURE_LABELS.get(parts[0].split("[")[0], where)
    election = parts[1]
    if len(parts) == 2:
        return f"همهٔ ارقام انتخابات {election}"
    if parts[2] == "votes":
        return f"آرای نامزد {parts[3]} ({election})" if len(parts) > 3 else f"آرای نامزدها ({election})"
    return f"{FIGURE_LABELS.get(parts[2], parts[2])} ({election})"


def printer_status(status: PrinterStatus) -> str:
    """The printer's state as the operator reads it (the driver's own detail goes only to the log)."""
    return PRINTER_STATES[status.state]


def findings(found: tuple[Finding, ...]) -> str:
    return "؛ ".join(f"{COMPONENTS[f.component]}: {CONDITIONS.get(f.condition, f.condition)}" for f in found)


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
    return (f"ساعت دستگاه {' و '.join(parts)} {direction} از ساعت ستاد است؛ رأی‌گیری آغاز نشد. "
            "ساعت دستگاه را تنظیم کنید و دوباره آغاز رأی‌گیری را بزنید.")


def clock(moment: datetime) -> str:
    """Hour and minute in Iran's time, in Persian digits."""
    return to_persian_digits(moment.astimezone(IRAN).strftime("%H:%M"))
