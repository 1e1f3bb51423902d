"""CPU time read from /proc: of other processes (the broker, the PostgreSQL server's backends), of our own threads."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds of process `pid` so far (0 when it is gone)."""
    return _cpu_s(Path(f"/proc/{pid}/stat"))


def thread_cpu_s(native_id: int) -> float:
    """User and system CPU seconds of this process's thread `native_id` so far (0 when it is gone)."""
    return _cpu_s(Path(f"/proc/self/task/{native_id}/stat"))


def _cpu_s(stat: Path) -> float:
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_cpu_s(parent: int) -> float:
    """CPU seconds of `parent` and its living children (a postmaster and its backends)."""
    spent = process_cpu_s(parent)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            spent += (int(fields[11]) + int(fields[12])) / _TICKS
    return spent


def pid_running(command_part: str) -> int | None:
    """The pid of a process whose command line holds `command_part` (e.g. a broker's config file), if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if command_part in command:
            return int(entry.name)
    return None
