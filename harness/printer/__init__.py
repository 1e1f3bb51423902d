"""A virtual ESC/POS printer on a pseudo-terminal that answers status and renders what it prints."""

from harness.printer.pty_pair import open_virtual_printer
from harness.printer.virtual import EventKind, PrintedPage, PrinterEvent, VirtualPrinter

__all__ = ["EventKind", "PrintedPage", "PrinterEvent", "VirtualPrinter", "open_virtual_printer"]
