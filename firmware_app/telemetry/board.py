"""What the board says about itself: boot id, uptime, free disk, CPU temperature and throttling (None where absent)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
THROTTLED = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
"""The Raspberry Pi firmware's throttling flags (hex); absent on other boards."""
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
UPTIME = Path("/proc/uptime")


@dataclass(frozen=True)
class BoardFacts:
    boot_id: str
    uptime_s: int
    free_disk_mb: int | None
    cpu_temp_mc: int | None
    throttled: bool | None


def read_board(state_dir: Path) -> BoardFacts:
    """Read now; a file the board does not have gives None for its figure, never an error."""
    return BoardFacts(_boot_id(), _uptime_s(), _free_disk_mb(state_dir), _cpu_temp_mc(), _throttled())


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _boot_id() -> str:
    found = (_text(BOOT_ID) or "").replace("-", "")
    return found if len(found) == 32 and all(c in "0123456789abcdef" for c in found) else "0" * 32


def _uptime_s() -> int:
    found = _text(UPTIME)
    try:
        return int(float(found.split()[0])) if found else 0
    except ValueError:
        return 0


def _free_disk_mb(state_dir: Path) -> int | None:
    try:
        return shutil.disk_usage(state_dir).free // (1024 * 1024)
    except OSError:
        return None


def _cpu_temp_mc() -> int | None:
    found = _text(THERMAL)
    if found is None or not found.lstrip("-").isdecimal():
        return None
    value = int(found)
    return value if -50_000 <= value <= 150_000 else None


def _throttled() -> bool | None:
    found = _text(THROTTLED)
    if found is None:
        return None
    try:
        return int(found, 16) != 0
    except ValueError:
        return None
