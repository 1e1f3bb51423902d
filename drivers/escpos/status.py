"""Decode the printer's status bytes (DLE EOT, GS r 1, automatic status back) into printer status values."""

from __future__ import annotations

from dataclasses import dataclass

from hal.printer import PrinterState, PrinterStatus

_FIXED_MASK = 0x93
_STATUS_BITS = 0x12
"""Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear."""
_ASB_FIRST_BITS = 0x10
"""The first byte of an automatic status message has bit 4 set and bits 0, 1 and 7 clear."""
_ASB_REST_MASK = 0x90
"""The second to fourth bytes of an automatic status message have bits 4 and 7 clear."""
_PAPER_STATUS_MASK = 0xF0
"""A GS r 1 answer uses only bits 0..3: 0x03 paper near end, 0x0C paper end."""

PAPER_NEAR_END_BITS = 0x03
PAPER_END_BITS = 0x0C
AUTOMATIC_STATUS_LENGTH = 4


def is_status_byte(value: int) -> bool:
    """Shaped like an answer to DLE EOT n."""
    return value & _FIXED_MASK == _STATUS_BITS


def is_automatic_status_start(value: int) -> bool:
    return value & _FIXED_MASK == _ASB_FIRST_BITS


def is_automatic_status_continuation(value: int) -> bool:
    return value & _ASB_REST_MASK == 0


def is_paper_status_byte(value: int) -> bool:
    """Shaped like an answer to GS r 1 (any byte 0x00..0x0F: which is why it alone proves nothing)."""
    return value & _PAPER_STATUS_MASK == 0


@dataclass(frozen=True)
class StatusBytes:
    """The four answers to DLE EOT 1, 2, 3 and 4."""

    printer: int
    offline_cause: int
    error_cause: int
    paper_sensor: int


def decode_status(answers: StatusBytes) -> PrinterStatus:
    """The most pressing condition wins: paper end, cover, errors, offline, paper low, ready."""
    for name, value in vars(answers).items():
        if not is_status_byte(value):
            return PrinterStatus(PrinterState.ERROR, f"malformed {name} status byte 0x{value:02x}")
    if answers.paper_sensor & 0x60 or answers.offline_cause & 0x20:
        return PrinterStatus(PrinterState.NO_PAPER, "paper end")
    if answers.offline_cause & 0x04:
        return PrinterStatus(PrinterState.COVER_OPEN, "cover open")
    if answers.error_cause & 0x08:
        return PrinterStatus(PrinterState.ERROR, "autocutter error")
    if answers.error_cause & 0x20:
        return PrinterStatus(PrinterState.ERROR, "unrecoverable error")
    if answers.error_cause & 0x40 or answers.offline_cause & 0x40:
        return PrinterStatus(PrinterState.ERROR, "recoverable error")
    if answers.printer & 0x08:
        return PrinterStatus(PrinterState.OFFLINE, "offline")
    if answers.paper_sensor & 0x0C:
        return PrinterStatus(PrinterState.PAPER_LOW, "paper near end")
    return PrinterStatus(PrinterState.READY)


def decode_paper_status(value: int) -> PrinterStatus:
    """A GS r 1 answer; either bit of a sensor pair counts, so a half-set pair errs towards trouble."""
    if not is_paper_status_byte(value):
        return PrinterStatus(PrinterState.ERROR, f"malformed paper status byte 0x{value:02x}")
    if value & PAPER_END_BITS:
        return PrinterStatus(PrinterState.NO_PAPER, "paper end")
    if value & PAPER_NEAR_END_BITS:
        return PrinterStatus(PrinterState.PAPER_LOW, "paper near end")
    return PrinterStatus(PrinterState.READY)


def decode_automatic_status(data: bytes) -> PrinterStatus:
    """Four ASB bytes: printer (offline 0x08, cover 0x20), errors (cutter 0x08, unrecoverable 0x20,
    recoverable 0x04/0x40), paper (near end 0x03, end 0x0C); the fourth byte carries nothing we use."""
    if (
        len(data) != AUTOMATIC_STATUS_LENGTH
        or not is_automatic_status_start(data[0])
        or not all(is_automatic_status_continuation(value) for value in data[1:])
    ):
        return PrinterStatus(PrinterState.ERROR, f"malformed automatic status {data.hex(' ')}")
    printer, errors, paper = data[0], data[1], data[2]
    if paper & PAPER_END_BITS:
        return PrinterStatus(PrinterState.NO_PAPER, "paper end")
    if printer & 0x20:
        return PrinterStatus(PrinterState.COVER_OPEN, "cover open")
    if errors & 0x08:
        return PrinterStatus(PrinterState.ERROR, "autocutter error")
    if errors & 0x20:
        return PrinterStatus(PrinterState.ERROR, "unrecoverable error")
    if errors & 0x44:
        return PrinterStatus(PrinterState.ERROR, "recoverable error")
    if printer & 0x08:
        return PrinterStatus(PrinterState.OFFLINE, "offline")
    if paper & PAPER_NEAR_END_BITS:
        return PrinterStatus(PrinterState.PAPER_LOW, "paper near end")
    return PrinterStatus(PrinterState.READY)
