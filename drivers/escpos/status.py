"""Decode DLE EOT real-time status answers into a printer status value."""

from __future__ import annotations

from dataclasses import dataclass

from hal.printer import PrinterState, PrinterStatus

_FIXED_MASK = 0x93
_FIXED_BITS = 0x12
"""Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear."""

BARRIER_MASK = 0xF0
"""A GS r 1 answer uses only bits 0..3, which tells it apart from any DLE EOT answer."""


def is_status_byte(value: int) -> bool:
    return value & _FIXED_MASK == _FIXED_BITS


def is_barrier_byte(value: int) -> bool:
    return value & BARRIER_MASK == 0


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
