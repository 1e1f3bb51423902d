"""Bytes per slip and time to send it at 9,600 / 38,400 / 115,200 baud, beside the same slip as one raster."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import BASIC_58, GENERIC_58, GENERIC_80, PrinterProfile
from drivers.escpos.serial_printer import SerialPrinter, transfer_seconds
from firmware_app.slip import SlipContent, compose_slip
from hal.printer import Align, Cut, Feed, PrintDocument, Printed, Raster
from harness.printer.pty_pair import open_virtual_printer
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import DocumentKind

BAUD_RATES = (9_600, 38_400, 115_200)
RUNS = 3


def slip(reprint: bool = False, training: bool = False) -> SlipContent:
    return SlipContent(
        inquiry_code=new_inquiry_code(),
        branch="B-0042",
        terminal="T-07",
        serial=1234,
        document=DocumentKind.BIRTH_CERTIFICATE,
        issued_at=datetime.now(UTC),
        reprint=reprint,
        training=training,
    )


def as_full_raster(document: PrintDocument, profile: PrinterProfile, scratch: Path) -> PrintDocument:
    """The page the virtual printer drew for `document`, sent back as one full-width image."""
    device, virtual = open_virtual_printer(profile, scratch)
    printer = SerialPrinter(device, profile)
    try:
        result = printer.print_document(document)
        if not isinstance(result, Printed):
            raise RuntimeError(f"rendering the slip failed: {result}")
        page = virtual.pages[0].image
    finally:
        printer.close()
        virtual.stop()
    ink = Image.eval(page.convert("L"), lambda v: 255 - v).convert("1")
    raster = Raster(page.width, page.height, ink.tobytes(), Align.CENTER)
    return PrintDocument(f"{document.title} as raster", (raster, Feed(3), Cut()))


def measured_seconds(document: PrintDocument, profile: PrinterProfile, baud: int) -> float:
    """Median wall time of print_document through the pty, the virtual printer taking bytes at `baud`."""
    line_profile = replace(profile, baud_rate=baud)
    device, virtual = open_virtual_printer(line_profile)
    virtual.pace_at_baud(baud)
    printer = SerialPrinter(device, line_profile)
    times = []
    try:
        for _ in range(RUNS):
            start = time.perf_counter()
            result = printer.print_document(document)
            times.append(time.perf_counter() - start)
            if not isinstance(result, Printed):
                raise RuntimeError(f"printing at {baud} baud failed: {result}")
    finally:
        printer.close()
        virtual.stop()
    return statistics.median(times)


def main() -> int:
    cases = [
        ("80 mm slip", GENERIC_80, slip()),
        ("80 mm reprint", GENERIC_80, slip(reprint=True)),
        ("80 mm training", GENERIC_80, slip(training=True)),
        ("58 mm slip", GENERIC_58, slip()),
        ("58 mm slip, QR as raster", BASIC_58, slip()),
    ]
    header = "".join(f"{baud:>10,} Bd" for baud in BAUD_RATES)
    print(f"{'document':<34}{'bytes':>8}{header}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, profile, content in cases:
            document = compose_slip(content, profile.dots_per_line)
            raster = as_full_raster(document, profile, Path(scratch) / name.replace(" ", "-"))
            for label, doc in ((name, document), ("  same as full raster", raster)):
                size = len(encode_document(doc, profile))
                times = "".join(f"{transfer_seconds(size, baud):>12.2f}s" for baud in BAUD_RATES)
                print(f"{label:<34}{size:>8,}{times}")
    print(f"\nline time = bytes x 10 bits / baud. Measured through the pty, median of {RUNS} runs, 80 mm slip:")
    document = compose_slip(slip(), GENERIC_80.dots_per_line)
    size = len(encode_document(document, GENERIC_80))
    for baud in BAUD_RATES:
        seconds = measured_seconds(document, GENERIC_80, baud)
        print(f"  {baud:>7,} baud: {seconds:.2f} s for {size:,} bytes (line time {transfer_seconds(size, baud):.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
