"""Persian messages telling the operator what to do about each refused document."""

from __future__ import annotations

from typing import assert_never

from firmware_app.identity.document import DocumentProblem, DocumentRefusal


def message(problem: DocumentProblem) -> str:
    match problem:
        case DocumentProblem.BAD_NATIONAL_CODE:
            return "کد ملی ثبت‌شده در کارت معتبر نیست؛ کارت پذیرفته نمی‌شود. از شناسنامه استفاده کنید."
        case DocumentProblem.UNREADABLE:
            return "کارت خوانده نشد؛ کارت را بیرون بیاورید و دوباره وارد کنید."
        case DocumentProblem.REMOVED_MID_READ:
            return "کارت پیش از پایان خواندن بیرون آمد؛ کارت را دوباره وارد کنید و تا پایان خواندن نگه دارید."
        case DocumentProblem.TIMED_OUT:
            return ("کارت در زمان مقرر پاسخ نداد؛ کارت را بیرون بیاورید و دوباره وارد کنید. "
                    "اگر باز هم پاسخ نداد، شناسنامه بخواهید و کد ملی را دستی وارد کنید.")
        case DocumentProblem.WRONG_APPLICATION:
            return "این کارت، کارت ملی هوشمند نیست؛ کارت ملی هوشمند یا شناسنامه بخواهید."
        case DocumentProblem.DATA_ALTERED:
            return "اطلاعات کارت دست‌کاری شده است؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه گزارش دهید."
        case DocumentProblem.SIGNATURE_INVALID:
            return "امضای صادرکنندهٔ کارت نامعتبر است؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه گزارش دهید."
        case DocumentProblem.SIGNER_UNTRUSTED:
            return "صادرکنندهٔ کارت شناخته‌شده نیست؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه گزارش دهید."
        case DocumentProblem.CLONE_SUSPECTED:
            return "تراشهٔ کارت اصل نیست (احتمال کارت جعلی)؛ کارت پذیرفته نمی‌شود. موضوع را به رئیس شعبه گزارش دهید."
        case DocumentProblem.EXPIRED:
            return "اعتبار کارت ملی به پایان رسیده است؛ شناسنامه بخواهید و کد ملی را دستی وارد کنید."
        case _:
            assert_never(problem)


def refuse(problem: DocumentProblem, detail: str = "") -> DocumentRefusal:
    return DocumentRefusal(problem, message(problem), detail)
