"""What came out of a virtual ESC/POS printer, read back from the bytes of each page as the invariants need it."""

from __future__ import annotations

import re

from harness.fakes import PrintedJob
from harness.printer import parser
from harness.printer.virtual import PrintedPage

_QR_STORE = 0x50
_MINUTES_QR = re.compile(r"[0-9a-f]{64}")
"""The minutes carry a QR of their SHA-256; a slip's QR is its nine-digit inquiry code."""


def minutes_hash_on(job: PrintedJob) -> str | None:
    """The minutes' hash if this job is a printed copy of the minutes."""
    return next((data for data in job.qr if _MINUTES_QR.fullmatch(data)), None)


def is_slip(job: PrintedJob) -> bool:
    """A voting slip (whole or torn): a QR that is not the minutes'; the zero and closing reports carry none."""
    return bool(job.qr) and minutes_hash_on(job) is None


def jobs_from_pages(pages: list[PrintedPage]) -> list[PrintedJob]:
    """One PrintedJob per page: the QR data stored, the native text printed, and whether it was cut whole."""
    jobs = []
    for number, page in enumerate(pages, start=1):
        commands = parser.Tokenizer().feed(page.job)
        qr = tuple(c.parameters[1:].decode("ascii", errors="replace") for c in commands
                   if isinstance(c, parser.QrFunction) and c.function == _QR_STORE)
        text = tuple(c.data.decode("ascii", errors="replace").strip() for c in commands
                     if isinstance(c, parser.Text))
        jobs.append(PrintedJob(f"page {number}", qr, text, page.complete))
    return jobs
