"""Why a provisioning step was refused: a typed reason, a detail, and the Persian text shown to officials."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Problem(enum.StrEnum):
    ALREADY_INITIALISED = "already_initialised"
    NOT_INITIALISED = "not_initialised"
    BAD_NAME = "bad_name"
    UNKNOWN_USER = "unknown_user"
    UNREADABLE_BUNDLE = "unreadable_bundle"
    FOREIGN_SIGNER = "foreign_signer"
    TAMPERED = "tampered"
    WRONG_TERMINAL = "wrong_terminal"
    KEY_MISMATCH = "key_mismatch"
    SIGNING_KEY_MISMATCH = "signing_key_mismatch"
    UNTRUSTED_CHAIN = "untrusted_chain"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NOT_A_CLIENT_CERTIFICATE = "not_a_client_certificate"
    NOT_INSTALLED = "not_installed"
    CLOSE_NOT_ACKNOWLEDGED = "close_not_acknowledged"
    MINUTES_NOT_ACKNOWLEDGED = "minutes_not_acknowledged"
    NO_JOURNAL = "no_journal"
    NO_ELECTION = "no_election"
    ELECTION_UNREADABLE = "election_unreadable"
    ELECTION_NOT_SIGNED = "election_not_signed"
    ELECTION_FOREIGN = "election_foreign"
    PERMIT_UNREADABLE = "permit_unreadable"
    PERMIT_NOT_SIGNED = "permit_not_signed"
    PERMIT_FOREIGN = "permit_foreign"
    NO_PERMIT_KEY = "no_permit_key"


PERSIAN: dict[Problem, str] = {
    Problem.ALREADY_INITIALISED: "کلیدهای این پایانه قبلاً ساخته شده‌اند",
    Problem.NOT_INITIALISED: "کلیدهای پایانه هنوز ساخته نشده‌اند؛ ابتدا init را اجرا کنید",
    Problem.BAD_NAME: "شناسه نامعتبر است (فقط حروف لاتین، رقم و خط تیره، حداکثر ۳۲)",
    Problem.UNKNOWN_USER: "کاربر سرویس در این دستگاه وجود ندارد",
    Problem.UNREADABLE_BUNDLE: "بسته ثبت‌نام خوانا نیست",
    Problem.FOREIGN_SIGNER: "بسته با کلید فرمانداری دیگری امضا شده است",
    Problem.TAMPERED: "امضای بسته ثبت‌نام معتبر نیست؛ بسته دست‌کاری شده است",
    Problem.WRONG_TERMINAL: "بسته برای پایانه دیگری صادر شده است",
    Problem.KEY_MISMATCH: "گواهی با کلید این دستگاه جور نیست",
    Problem.SIGNING_KEY_MISMATCH: "اثر انگشت کلید امضای بسته با کلید این دستگاه جور نیست",
    Problem.UNTRUSTED_CHAIN: "گواهی از مرجع صدور گواهی فرمانداری نیست",
    Problem.NOT_YET_VALID: "گواهی هنوز معتبر نشده است (ساعت دستگاه را بررسی کنید)",
    Problem.EXPIRED: "گواهی منقضی شده است",
    Problem.NOT_A_CLIENT_CERTIFICATE: "گواهی برای احراز هویت پایانه صادر نشده است",
    Problem.NOT_INSTALLED: "هنوز بسته ثبت‌نامی نصب نشده است",
    Problem.CLOSE_NOT_ACKNOWLEDGED: "گزارش پایان رأی‌گیری هنوز تأیید مرکز را نگرفته است",
    Problem.MINUTES_NOT_ACKNOWLEDGED: "صورتجلسه ثبت شده ولی هنوز تأیید ستاد را نگرفته است؛ کلید امضا برای ارسال آن لازم است",
    Problem.NO_JOURNAL: "دفتر رویداد پایانه پیدا نشد؛ تأیید پایان رأی‌گیری معلوم نیست",
    Problem.NO_ELECTION: "بستهٔ انتخابات (فهرست انتخابات و نامزدهای روز) نصب نشده است",
    Problem.ELECTION_UNREADABLE: "بستهٔ انتخابات خوانا نیست",
    Problem.ELECTION_NOT_SIGNED: "بستهٔ انتخابات امضای معتبر فرمانداری را ندارد (امضانشده، دست‌کاری‌شده یا با کلید دیگر)",
    Problem.ELECTION_FOREIGN: "بستهٔ انتخابات برای حوزهٔ دیگری است",
    Problem.PERMIT_UNREADABLE: "فایل مجوز کار بدون اتصال خوانا نیست",
    Problem.PERMIT_NOT_SIGNED: "مجوز کار بدون اتصال امضای معتبر فرمانداری را ندارد",
    Problem.PERMIT_FOREIGN: "مجوز کار بدون اتصال برای این پایانه صادر نشده است",
    Problem.NO_PERMIT_KEY: "این دستگاه کلید مجوز ندارد (پیش از مجوزها ساخته شده)؛ دوباره آماده‌سازی شود",
}


@dataclass(frozen=True)
class ProvisioningRefusal:
    """A refused provisioning step; nothing was changed on the device."""

    problem: Problem
    detail: str = ""

    def message(self) -> str:
        """One line for officials: Persian reason, then the English keyword and detail."""
        suffix = f": {self.detail}" if self.detail else ""
        return f"رد شد — {PERSIAN[self.problem]} (REFUSED {self.problem.value}{suffix})"
