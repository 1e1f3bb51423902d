"""Printer capability profiles: what differs between thermal printer models, as data."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.escpos import commands
from hal.printer import TEXT_CELL_WIDTH_DOTS

DOTS_PER_MM = 8
"""Every supported model prints at 203 dpi, eight dots per millimetre."""

FONT_A_WIDTH_DOTS = TEXT_CELL_WIDTH_DOTS
FONT_A_HEIGHT_DOTS = 24
LINE_SPACING_DOTS = 30
"""Font A is 12 x 24 dots; the default line pitch is 30 dots."""


@dataclass(frozen=True)
class JobConfirmation:
    """How a model proves it printed one job: what the driver appends to the job, what must come back.

    The job ends with `id_request` + a fresh job id, then `paper_request`. The printer answers
    `id_response` + the id + NUL once everything before it has been printed, then one paper-status byte
    (bits 4..7 clear; 0x0C set: paper end). Nothing else the printer sends counts as confirmation."""

    id_request: bytes
    id_response: bytes
    id_length: int
    id_alphabet: bytes
    paper_request: bytes

    def __post_init__(self) -> None:
        if not self.id_alphabet or any(not 0x20 <= b <= 0x7E for b in self.id_alphabet):
            raise ValueError("job id bytes must be printable ASCII (20h..7Eh)")

    def requests(self, job_id: bytes) -> bytes:
        """The bytes appended to a job with id `job_id`."""
        if len(job_id) != self.id_length or any(b not in self.id_alphabet for b in job_id):
            raise ValueError(f"job id must be {self.id_length} bytes of the profile's alphabet, got {job_id!r}")
        return self.id_request + job_id + self.paper_request

    def response(self, job_id: bytes) -> bytes:
        """The exact header-to-NUL answer that proves the job with id `job_id` was printed."""
        return self.id_response + job_id + bytes((commands.RESPONSE_END,))


EPSON_PROCESS_ID = JobConfirmation(
    id_request=commands.PROCESS_ID_REQUEST,
    id_response=commands.PROCESS_ID_RESPONSE,
    id_length=4,
    id_alphabet=b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ",
    paper_request=commands.PAPER_STATUS_REQUEST,
)
"""GS ( H function 48 (process ID response), then GS r 1 (paper sensor status)."""


@dataclass(frozen=True)
class PrinterProfile:
    """One printer model: paper, printable width, serial speed, whether it draws QR codes itself, and how
    it confirms a job."""

    name: str
    paper_mm: int
    dots_per_line: int
    baud_rate: int
    native_qr: bool
    confirmation: JobConfirmation = EPSON_PROCESS_ID

    def __post_init__(self) -> None:
        if self.dots_per_line % 8 or self.dots_per_line <= 0:
            raise ValueError(f"dots_per_line must be a positive multiple of 8, got {self.dots_per_line}")
        if self.paper_mm not in (58, 80):
            raise ValueError(f"paper_mm must be 58 or 80, got {self.paper_mm}")

    @property
    def columns(self) -> int:
        """Font A characters in one line at normal size."""
        return self.dots_per_line // FONT_A_WIDTH_DOTS


GENERIC_80 = PrinterProfile("generic-80", paper_mm=80, dots_per_line=576, baud_rate=115_200, native_qr=True,
                            confirmation=EPSON_PROCESS_ID)
GENERIC_58 = PrinterProfile("generic-58", paper_mm=58, dots_per_line=384, baud_rate=38_400, native_qr=True,
                            confirmation=EPSON_PROCESS_ID)
BASIC_58 = PrinterProfile("basic-58", paper_mm=58, dots_per_line=384, baud_rate=9_600, native_qr=False,
                          confirmation=EPSON_PROCESS_ID)

PROFILES: dict[str, PrinterProfile] = {p.name: p for p in (GENERIC_80, GENERIC_58, BASIC_58)}


def profile_named(name: str) -> PrinterProfile:
    """The profile a config names; an unknown name is a config error listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown printer profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
