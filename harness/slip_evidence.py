"""What came out of a virtual ESC/POS printer, read back from the bytes of each page as the invariants need it."""

from __future__ import annotations

from harness.fakes import PrintedJob
from harness.printer import parser
from harness.printer.virtual import PrintedPage

_QR_STORE = 0x50


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
