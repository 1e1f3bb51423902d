"""Create a raw pseudo-terminal with a virtual printer on its master end; pyserial opens the other end."""

from __future__ import annotations

import os
import tty
from pathlib import Path

from drivers.escpos.profiles import PrinterProfile
from harness.printer.virtual import VirtualPrinter


def open_virtual_printer(profile: PrinterProfile, out_dir: Path | None = None) -> tuple[str, VirtualPrinter]:
    """The device path for pyserial and the running virtual printer (stop it, or use it as a context manager)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    printer = VirtualPrinter(master, slave, profile, out_dir)
    printer.start()
    return os.ttyname(slave), printer
