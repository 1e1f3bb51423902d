"""ESC/POS over a serial line: capability profiles, a byte-exact encoder, status decoding, the printer."""

from drivers.escpos.encoder import encode_document
from drivers.escpos.profiles import PROFILES, PrinterProfile, profile_named
from drivers.escpos.serial_printer import SerialPrinter

__all__ = ["PROFILES", "PrinterProfile", "SerialPrinter", "encode_document", "profile_named"]
