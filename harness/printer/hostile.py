"""What a badly behaved printer does to the line, as data the virtual printer consults: test handles only."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.escpos import commands


@dataclass(frozen=True)
class Trigger:
    """Do something once `at_job_bytes` bytes of print data have been received in all."""

    at_job_bytes: int
    action: str
    """"send" (write `data`), "power_cycle" (lose everything unprinted, then write `data`) or "hang_up"."""
    data: bytes = b""


@dataclass
class Misbehaviour:
    """The hostile modes in force; the virtual printer keeps one and its test handle edits it."""

    triggers: list[Trigger] = field(default_factory=list)
    lose_next_job: bool = False
    replay_last_confirmation: bool = False
    """With `lose_next_job`: answer the lost job's completion requests with the previous job's answers."""
    lying_paper_sensor: bool = False
    """When the roll ends: tear, skip the rest of the printing, still answer completion requests (GS r 1
    with paper-end bits), and tell DLE EOT the paper is present."""
    interleave_flow_control: bool = False
    held: bool = False
    job_bytes_while_held: int = 0

    def due(self, job_bytes: int) -> list[Trigger]:
        """The triggers reached at `job_bytes`, removed from the list."""
        reached = [t for t in self.triggers if job_bytes >= t.at_job_bytes]
        self.triggers = [t for t in self.triggers if job_bytes < t.at_job_bytes]
        return reached


def interleaved(data: bytes) -> bytes:
    """`data` wrapped in XOFF ... XON with an XON XOFF pair between every two bytes."""
    if not data:
        return data
    pair = bytes((commands.XON, commands.XOFF))
    return bytes((commands.XOFF,)) + pair.join(bytes((b,)) for b in data) + bytes((commands.XON,))


def automatic_status(*, offline: bool, cover_open: bool, error: bool, near_end: bool, paper_end: bool) -> bytes:
    """The four ASB bytes a printer with automatic status back enabled sends for this state."""
    first = 0x10 | (0x08 if offline else 0) | (0x20 if cover_open else 0)
    second = 0x20 if error else 0
    third = (0x03 if near_end else 0) | (0x0C if paper_end else 0)
    return bytes((first, second, third, 0x00))
