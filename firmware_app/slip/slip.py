"""The voting slip (رسید): what the voter carries to the ballot box, as a device-neutral print document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firmware_app.slip.persian import DOCUMENT_NAMES, jalali_date_time
from firmware_app.slip.raster import Frame, lines_raster, text_raster
from hal.printer import TEXT_CELL_WIDTH_DOTS, Align, Cut, Feed, PrintDocument, PrintElement, QrCode, TextLine
from protocol.inquiry_code import group_inquiry_code, is_valid_inquiry_code
from protocol.messages import DocumentKind
from protocol.offline_code import OfflineCodeProblem, group_offline_code, parse_offline_code

TITLE = "رسید اخذ رأی"
INQUIRY_LABEL = "کد استعلام"
OFFLINE_LABEL = "کد آفلاین"
OFFLINE_MARK = "آفلاین - بدون استعلام برخط"
OFFLINE_LATIN = "OFFLINE"
REPRINT_MARK = "چاپ مجدد"
REPRINT_LATIN = "*** REPRINT ***"
TRAINING_MARK = "آموزشی - این رسید اعتبار ندارد"
TRAINING_LATIN = "TRAINING - NOT VALID"

TITLE_PX = 34
LABEL_PX = 24
MARK_PX = 30
CODE_MAX_SCALE = 3
QR_MODULE_DOTS = 4


@dataclass(frozen=True)
class SlipContent:
    """Everything printed on one slip. `issued_at` must be timezone-aware."""

    inquiry_code: str
    branch: str
    terminal: str
    serial: int
    document: DocumentKind
    issued_at: datetime
    reprint: bool
    training: bool
    offline: bool = False
    """An OFFLINE slip under a district permit: `inquiry_code` is its offline code (protocol.offline_code)."""

    def __post_init__(self) -> None:
        if self.offline and isinstance(parse_offline_code(self.inquiry_code), OfflineCodeProblem):
            raise ValueError(f"not a valid offline code: {self.inquiry_code!r}")
        if not self.offline and not is_valid_inquiry_code(self.inquiry_code):
            raise ValueError(f"not a valid inquiry code: {self.inquiry_code!r}")
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        if self.serial < 1:
            raise ValueError(f"slip serial numbers start at 1, got {self.serial}")
        for name, value in (("branch", self.branch), ("terminal", self.terminal)):
            if not value.isascii() or not value.isprintable() or not value:
                raise ValueError(f"{name} must be printable ASCII, got {value!r}")


def compose_slip(content: SlipContent, profile_width_dots: int) -> PrintDocument:
    """Persian labels as small cropped rasters; the code, ids, serial and QR native; marks when needed."""
    width = profile_width_dots
    code = group_offline_code(content.inquiry_code) if content.offline else group_inquiry_code(content.inquiry_code)
    elements: list[PrintElement] = [text_raster(TITLE, TITLE_PX, width, bold=True, align=Align.CENTER)]
    elements += offline_marks(content.offline, width)
    elements += marks(content.reprint, content.training, width)
    elements += [
        text_raster(OFFLINE_LABEL if content.offline else INQUIRY_LABEL, LABEL_PX, width, align=Align.CENTER),
        TextLine(code, Align.CENTER, scale=largest_scale(code, width, CODE_MAX_SCALE), bold=True),
        QrCode(content.inquiry_code, module_dots=QR_MODULE_DOTS),
        Feed(1),
        *labelled("شعبه", content.branch, width),
        *labelled("دستگاه", content.terminal, width),
        *labelled("شماره رسید", str(content.serial), width),
        lines_raster(
            [f"مدرک: {DOCUMENT_NAMES[content.document]}", jalali_date_time(content.issued_at)],
            LABEL_PX,
            width,
            align=Align.RIGHT,
        ),
    ]
    elements += marks(content.reprint, content.training, width, latin_only=True)
    elements += offline_marks(content.offline, width, latin_only=True)
    elements += [Feed(3), Cut()]
    title = (f"slip {content.serial}{' offline' if content.offline else ''}{' reprint' if content.reprint else ''}"
             f"{' training' if content.training else ''}")
    return PrintDocument(title=title, elements=tuple(elements))


def marks(reprint: bool, training: bool, width: int, *, latin_only: bool = False) -> list[PrintElement]:
    """REPRINT in a box and in Latin; training inverted, white on black, and in Latin."""
    out: list[PrintElement] = []
    if reprint:
        if not latin_only:
            out.append(text_raster(REPRINT_MARK, MARK_PX, width, bold=True, align=Align.CENTER, frame=Frame.BOXED))
        out.append(TextLine(REPRINT_LATIN, Align.CENTER, scale=largest_scale(REPRINT_LATIN, width, 2), bold=True))
    if training:
        if not latin_only:
            out.append(text_raster(TRAINING_MARK, LABEL_PX, width, bold=True, align=Align.CENTER, frame=Frame.INVERTED))
        out.append(TextLine(TRAINING_LATIN, Align.CENTER, scale=largest_scale(TRAINING_LATIN, width, 2), bold=True))
    return out


def offline_marks(offline: bool, width: int, *, latin_only: bool = False) -> list[PrintElement]:
    """OFFLINE, unmistakably: inverted Persian and Latin at the top, Latin again at the foot."""
    if not offline:
        return []
    out: list[PrintElement] = []
    if not latin_only:
        out.append(text_raster(OFFLINE_MARK, MARK_PX, width, bold=True, align=Align.CENTER, frame=Frame.INVERTED))
    out.append(TextLine(OFFLINE_LATIN, Align.CENTER, scale=largest_scale(OFFLINE_LATIN, width, 3), bold=True))
    return out


def labelled(label: str, value: str, width: int) -> list[PrintElement]:
    """A Persian label as a raster, its Latin or digit value as native text under it, both right-aligned."""
    return [text_raster(label, LABEL_PX, width, align=Align.RIGHT), TextLine(value, Align.RIGHT, bold=True)]


def largest_scale(text: str, width: int, at_most: int) -> int:
    """The largest native character size, up to `at_most`, at which `text` fits on one line."""
    fits = width // (len(text) * TEXT_CELL_WIDTH_DOTS)
    if fits < 1:
        raise ValueError(f"{text!r} does not fit {width} dots even at normal size")
    return min(at_most, fits)


