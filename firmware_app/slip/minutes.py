"""The branch minutes (صورتجلسه) as a print document: every figure with the candidates' names, each check's
result, the officials, a QR of the minutes' hash, and room for the signatures."""

from __future__ import annotations

from firmware_app.slip.fonts import drawable
from firmware_app.slip.persian import jalali_date_time
from firmware_app.slip.raster import text_raster
from firmware_app.slip.reports import ReportHeader, wrapped
from firmware_app.slip.slip import LABEL_PX, QR_MODULE_DOTS, TITLE_PX, labelled, marks
from hal.printer import Align, Cut, Feed, PrintDocument, PrintElement, QrCode, TextLine
from protocol.minutes import Check, CheckResult, CountKind, Election, ElectionBundle, ElectionCount, Minutes
from protocol.national_code import to_persian_digits

TITLE = "صورتجلسه شعبه اخذ رأی"
SUBTITLE = "نتیجه شمارش آرا"
FIGURES: tuple[tuple[str, str], ...] = (
    ("received", "برگ رأی دریافتی"), ("used", "برگ رأی مصرف‌شده"), ("spoiled", "برگ رأی باطل‌شده"),
    ("unused", "برگ رأی مصرف‌نشده"), ("in_box", "آرای داخل صندوق"), ("invalid", "آرای باطل"),
)
CHECKS: dict[Check, str] = {
    Check.PAPERS_BALANCE: "مصرف‌شده، باطل‌شده و مصرف‌نشده برابر دریافتی",
    Check.BOX_MATCHES_VOTES: "آرای صندوق برابر آرای نامزدها و آرای باطل",
    Check.BOX_WITHIN_SLIPS: "آرای صندوق نه بیش از رسیدهای این دستگاه",
    Check.BOX_WITHIN_CENTER: "آرای صندوق نه بیش از رسیدهای ثبت‌شده در ستاد",
}
SEVERAL_NAMES_CHECK = "آرای نامزدها نه بیش از آرای صحیح ضرب در کرسی‌ها"
PASSED, FAILED = "برقرار", "برقرار نیست"
SIGNATURES = ("امضای رئیس و اعضای شعبه:", "امضای نمایندگان نامزدها:")
_UNDRAWABLE = "؟"


def compose_minutes(header: ReportHeader, minutes: Minutes, minutes_hash: str, bundle: ElectionBundle,
                    reprint: bool, profile_width_dots: int) -> PrintDocument:
    """The minutes the officials sign; `header.printed_at` is when this copy printed (a reprint says so too)."""
    width = profile_width_dots
    training = minutes.training
    elements: list[PrintElement] = [text_raster(TITLE, TITLE_PX, width, bold=True, align=Align.CENTER),
                                    text_raster(SUBTITLE, LABEL_PX, width, align=Align.CENTER)]
    elements += marks(reprint, training, width)
    elements += [*labelled("شعبه", header.branch, width), *labelled("دستگاه", header.terminal, width)]
    elements += _lines([f"ثبت: {jalali_date_time(minutes.entered_at)}"], width)
    if reprint:
        elements += _lines([f"چاپ مجدد: {jalali_date_time(header.printed_at)}"], width)
    elements += [text_raster("شماره پلمب‌های صندوق", LABEL_PX, width),
                 *(TextLine(seal, Align.RIGHT, bold=True) for seal in minutes.figures.seals), Feed(1)]
    for count in minutes.figures.counts:
        elements += _election(count, bundle.election(count.election), width)
    elements += [text_raster("بررسی‌ها", LABEL_PX, width, bold=True)]
    elements += _checks(minutes.checks, bundle, width)
    committed = minutes.center_committed
    offline = ([f"از آن‌ها آفلاین با مجوز ستاد: {_digits(minutes.offline_slips)}"] if minutes.offline_slips
               else [])
    elements += _lines([f"رسیدهای صادرشده این دستگاه: {_digits(minutes.slips_issued)}", *offline,
                        "رسیدهای ثبت‌شده در ستاد برای شعبه: " + (_digits(committed) if committed is not None
                                                              else "نامعلوم؛ پایان رأی‌گیری تأیید نشده بود")],
                       width)
    elements += [Feed(1), text_raster("واردکنندگان صورتجلسه", LABEL_PX, width),
                 *(TextLine(official, Align.RIGHT, bold=True) for official in minutes.officials), Feed(1),
                 text_raster("چکیده صورتجلسه", LABEL_PX, width, align=Align.CENTER),
                 QrCode(minutes_hash, module_dots=QR_MODULE_DOTS), *wrapped(minutes_hash, width), Feed(1)]
    for line in SIGNATURES:
        elements += [text_raster(line, LABEL_PX, width), Feed(5)]
    elements += marks(reprint, training, width, latin_only=True)
    elements += [Feed(3), Cut()]
    title = f"minutes{' reprint' if reprint else ''}{' training' if training else ''}"
    return PrintDocument(title=title, elements=tuple(elements))


def figure_lines(count: ElectionCount) -> list[str]:
    """One election's ballot papers and box, as printed."""
    return [f"{label}: {_digits(getattr(count, name))}" for name, label in FIGURES]


def vote_lines(count: ElectionCount, election: Election | None) -> list[str]:
    """Each candidate's votes under the candidate's name from the bundle."""
    names = {candidate.code: candidate.name for candidate in election.candidates} if election else {}
    return [f"{names.get(entry.candidate, entry.candidate)}: {_digits(entry.votes)}" for entry in count.votes]


def check_line(result: CheckResult, bundle: ElectionBundle) -> str:
    """A check's result as printed: the election, what it checks, passed or not, found against the bound."""
    election = bundle.election(result.election)
    label = CHECKS[result.check]
    if result.check is Check.BOX_MATCHES_VOTES and election is not None and election.kind is CountKind.SEVERAL_NAMES:
        label = SEVERAL_NAMES_CHECK
    where = election.title if election is not None else result.election
    verdict = PASSED if result.passed else FAILED
    return f"{where}، {label}: {verdict}؛ یافته {_digits(result.found)}، حد {_digits(result.bound)}"


def _election(count: ElectionCount, election: Election | None, width: int) -> list[PrintElement]:
    title = election.title if election is not None else count.election
    return [*_lines([title], width, bold=True), *_lines(figure_lines(count), width),
            text_raster("آرای نامزدها", LABEL_PX, width), *_lines(vote_lines(count, election), width), Feed(1)]


def _checks(results: tuple[CheckResult, ...], bundle: ElectionBundle, width: int) -> list[PrintElement]:
    return _lines([check_line(result, bundle) for result in results], width)


def _lines(lines: list[str], width: int, *, bold: bool = False) -> list[PrintElement]:
    """Each line as a raster, wrapped at spaces where it is wider than the paper; a character the font cannot
    draw prints as ؟ rather than stopping the minutes from printing."""
    out: list[PrintElement] = []
    for line in lines:
        out += _wrapped_line(drawable(line, bold, _UNDRAWABLE), width, bold)
    return out


def _wrapped_line(line: str, width: int, bold: bool) -> list[PrintElement]:
    fitted = _raster(line, width, bold)
    if fitted is not None:
        return [fitted]
    out: list[PrintElement] = []
    current = ""
    for word in line.split(" "):
        trial = f"{current} {word}".strip()
        if current and _raster(trial, width, bold) is None:
            out.append(_raster(current, width, bold) or _forced(current, width, bold))
            current = word
        else:
            current = trial
    out.append(_raster(current, width, bold) or _forced(current, width, bold))
    return out


def _raster(text: str, width: int, bold: bool) -> PrintElement | None:
    try:
        return text_raster(text, LABEL_PX, width, bold=bold)
    except ValueError:
        return None


def _forced(word: str, width: int, bold: bool) -> PrintElement:
    """A word wider than the paper on its own, cut to what fits (the minutes must print)."""
    for end in range(len(word) - 1, 0, -1):
        fitted = _raster(word[:end], width, bold)
        if fitted is not None:
            return fitted
    return text_raster(_UNDRAWABLE, LABEL_PX, width, bold=bold)


def _digits(value: int) -> str:
    return to_persian_digits(str(value))
