"""Poll opening's zero report and poll closing's report (صورتجلسه), as print documents."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from firmware_app.slip.persian import jalali_date_time
from firmware_app.slip.raster import lines_raster, text_raster
from firmware_app.slip.slip import LABEL_PX, TITLE_PX, labelled, marks
from hal.printer import TEXT_CELL_WIDTH_DOTS, Align, Cut, Feed, PrintDocument, PrintElement, TextLine
from protocol.messages import CloseCounts
from protocol.national_code import to_persian_digits

ZERO_TITLE = "گزارش صفر"
ZERO_SUBTITLE = "آغاز رأی‌گیری"
CLOSING_TITLE = "گزارش پایان رأی‌گیری"
CLOSING_SUBTITLE = "صورتجلسه شعبه"
SIGNATURES = "امضای اعضای شعبه:"

COUNT_LABELS: dict[str, str] = {
    "issued": "رسید صادرشده",
    "reprinted": "چاپ مجدد",
    "voided": "باطل‌شده",
    "duplicates_refused": "رد به علت رأی تکراری",
    "ineligible": "فاقد شرایط",
    "operator_rejected": "ردشده توسط کاربر",
    "rejected_documents": "مدرک ردشده",
    "face_overrides": "تأیید کاربر با وجود عدم تطابق چهره",
    "offline_issued": "رسید آفلاین با مجوز ستاد",
}
ZERO_COUNTS = CloseCounts(0, 0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class ReportHeader:
    """Who printed the report, with which software and configuration, and when (timezone-aware)."""

    terminal: str
    branch: str
    software_version: str
    software_hash: str
    config_hash: str
    printed_at: datetime
    training: bool = False

    def __post_init__(self) -> None:
        if self.printed_at.tzinfo is None:
            raise ValueError("printed_at must be timezone-aware")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str) and (not value or not value.isascii() or not value.isprintable()):
                raise ValueError(f"{field.name} must be printable ASCII, got {value!r}")


def compose_zero_report(header: ReportHeader, profile_width_dots: int) -> PrintDocument:
    """Printed at poll opening: every counter zero, proof nothing was issued before the polls opened."""
    return _report("zero report", [ZERO_TITLE, ZERO_SUBTITLE], header, ZERO_COUNTS, profile_width_dots)


def compose_closing_report(header: ReportHeader, counts: CloseCounts, profile_width_dots: int) -> PrintDocument:
    """Printed at poll closing for the branch minutes, with the day's counts."""
    return _report("closing report", [CLOSING_TITLE, CLOSING_SUBTITLE], header, counts, profile_width_dots)


def _report(
    title: str, headings: list[str], header: ReportHeader, counts: CloseCounts, width: int
) -> PrintDocument:
    elements: list[PrintElement] = [lines_raster(headings, TITLE_PX, width, bold=True, align=Align.CENTER)]
    elements += marks(reprint=False, training=header.training, width=width)
    elements += [
        *labelled("شعبه", header.branch, width),
        *labelled("دستگاه", header.terminal, width),
        text_raster("نسخه نرم‌افزار", LABEL_PX, width),
        *wrapped(header.software_version, width),
        text_raster("چکیده نرم‌افزار", LABEL_PX, width),
        *wrapped(header.software_hash, width),
        text_raster("چکیده پیکربندی", LABEL_PX, width),
        *wrapped(header.config_hash, width),
        text_raster(jalali_date_time(header.printed_at), LABEL_PX, width),
        Feed(1),
        lines_raster(_count_lines(counts), LABEL_PX, width, align=Align.RIGHT),
        Feed(1),
        text_raster(SIGNATURES, LABEL_PX, width),
        Feed(5),
    ]
    elements += marks(reprint=False, training=header.training, width=width, latin_only=True)
    elements += [Feed(3), Cut()]
    return PrintDocument(title=title, elements=tuple(elements))


def _count_lines(counts: CloseCounts) -> list[str]:
    return [f"{COUNT_LABELS[f.name]}: {to_persian_digits(str(getattr(counts, f.name)))}" for f in fields(counts)]


def wrapped(value: str, width: int) -> list[PrintElement]:
    """A long value (a version, a hash) in native text, split into equal lines that fit the paper."""
    columns = width // TEXT_CELL_WIDTH_DOTS
    count = -(-len(value) // columns)
    per_line = -(-len(value) // count)
    return [TextLine(value[i : i + per_line], Align.RIGHT, bold=True) for i in range(0, len(value), per_line)]
