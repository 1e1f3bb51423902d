"""The terminal's one TOML config file, validated at start-up: every option read, unknown ones refused."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hal.backends import PRINTER_PROFILES
from hal.card_reader import ReadLimits

_SECTIONS: dict[str, dict[str, type]] = {
    "terminal": {"provisioning_dir": str, "state_dir": str, "training": bool, "timezone": str},
    "broker": {"host": str, "port": int},
    "printer": {"device": str, "profile": str},
    "card": {"reader": str, "extended_reads": bool, "read_deadline_s": float, "max_apdus_per_read": int},
    "camera": {"source": str},
    "gpio": {"enabled": bool},
    "screen": {"port": int, "lock_after_s": float},
    "telemetry": {"interval_s": float},
}
_OPTIONAL = {
    ("card", "reader"),
    ("card", "read_deadline_s"),
    ("card", "max_apdus_per_read"),
    ("camera", "source"),
    ("terminal", "training"),
    ("screen", "port"),
    ("screen", "lock_after_s"),
    ("telemetry", "interval_s"),
}
_READ_DEADLINE_S = (0.1, 120.0)
_MAX_APDUS_PER_READ = (10, 100_000)
SCREEN_PORT = 8480
"""The operator screen's port on 127.0.0.1 unless `[screen] port` says otherwise (unprivileged: 1024-65535)."""
_SCREEN_LOCK_AFTER_S = (30.0, 3600.0)
_TELEMETRY_INTERVAL_S = (5.0, 600.0)


@dataclass(frozen=True)
class TerminalConfig:
    provisioning_dir: Path
    state_dir: Path
    training: bool
    timezone: ZoneInfo
    broker_host: str
    broker_port: int
    printer_device: str
    printer_profile: str
    card_reader: str | None
    extended_reads: bool
    camera_source: str | None
    gpio: bool
    card_read_limits: ReadLimits = field(default_factory=ReadLimits)
    """`[card] read_deadline_s` (the whole read, connect to last answer) and `max_apdus_per_read`."""
    screen_port: int = SCREEN_PORT
    screen_lock_after_s: float = 300.0
    """`[screen] lock_after_s`: the screen locks (sign in again) after this long without an action."""
    telemetry_interval_s: float = 30.0
    """`[telemetry] interval_s`: a health report to the district this often (and at once on a change)."""


@dataclass(frozen=True)
class ConfigProblems:
    """The file was refused; each line names the option and what is wrong."""

    problems: tuple[str, ...]


def load_config(path: Path) -> TerminalConfig | ConfigProblems:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ConfigProblems((f"{path}: {exc}",))
    return parse_config(data)


def parse_config(data: dict[str, Any]) -> TerminalConfig | ConfigProblems:
    problems = [f"[{name}]: unknown section" for name in sorted(set(data) - set(_SECTIONS))]
    values: dict[tuple[str, str], Any] = {}
    for section, options in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            problems.append(f"[{section}]: must be a table")
            continue
        problems += [f"[{section}] {key}: unknown option" for key in sorted(set(table) - set(options))]
        for key, kind in options.items():
            if key not in table:
                if (section, key) not in _OPTIONAL:
                    problems.append(f"[{section}] {key}: missing")
                continue
            value = _as_float(table[key]) if kind is float else table[key]
            if type(value) is not kind:
                problems.append(f"[{section}] {key}: must be {kind.__name__}")
                continue
            values[(section, key)] = value
    zone = _zone(values.get(("terminal", "timezone"), "Asia/Tehran"), problems)
    profile = values.get(("printer", "profile"))
    if profile is not None and profile not in PRINTER_PROFILES:
        problems.append(f"[printer] profile: one of {sorted(PRINTER_PROFILES)}")
    port = values.get(("broker", "port"), 0)
    if ("broker", "port") in values and not 1 <= port <= 65535:
        problems.append("[broker] port: 1-65535")
    limits = _read_limits(values, problems)
    screen_port = values.get(("screen", "port"), SCREEN_PORT)
    if not 1024 <= screen_port <= 65535:
        problems.append("[screen] port: 1024-65535")
    lock_after_s = values.get(("screen", "lock_after_s"), 300.0)
    low_lock, high_lock = _SCREEN_LOCK_AFTER_S
    if not low_lock <= lock_after_s <= high_lock:
        problems.append(f"[screen] lock_after_s: {low_lock:g}-{high_lock:g} seconds")
    interval_s = values.get(("telemetry", "interval_s"), 30.0)
    low_interval, high_interval = _TELEMETRY_INTERVAL_S
    if not low_interval <= interval_s <= high_interval:
        problems.append(f"[telemetry] interval_s: {low_interval:g}-{high_interval:g} seconds")
    if problems:
        return ConfigProblems(tuple(problems))
    return TerminalConfig(
        provisioning_dir=Path(values[("terminal", "provisioning_dir")]),
        state_dir=Path(values[("terminal", "state_dir")]),
        training=values.get(("terminal", "training"), False),
        timezone=zone,
        broker_host=values[("broker", "host")],
        broker_port=port,
        printer_device=values[("printer", "device")],
        printer_profile=values[("printer", "profile")],
        card_reader=values.get(("card", "reader")) or None,
        extended_reads=values[("card", "extended_reads")],
        camera_source=values.get(("camera", "source")) or None,
        gpio=values[("gpio", "enabled")],
        card_read_limits=limits,
        screen_port=screen_port,
        screen_lock_after_s=lock_after_s,
        telemetry_interval_s=interval_s,
    )


def _as_float(value: object) -> object:
    """A TOML integer where a float is wanted (`read_deadline_s = 5`); anything else as it is."""
    if type(value) is int and abs(value) <= 2**53:
        return float(value)
    return value


def _read_limits(values: dict[tuple[str, str], Any], problems: list[str]) -> ReadLimits:
    default = ReadLimits()
    deadline = values.get(("card", "read_deadline_s"), default.deadline_s)
    apdus = values.get(("card", "max_apdus_per_read"), default.max_apdus)
    low, high = _READ_DEADLINE_S
    low_apdus, high_apdus = _MAX_APDUS_PER_READ
    fits = True
    if not low <= deadline <= high:
        problems.append(f"[card] read_deadline_s: {low:g}-{high:g} seconds")
        fits = False
    if not low_apdus <= apdus <= high_apdus:
        problems.append(f"[card] max_apdus_per_read: {low_apdus}-{high_apdus}")
        fits = False
    return ReadLimits(deadline, apdus) if fits else default


def _zone(name: str, problems: list[str]) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        problems.append(f"[terminal] timezone: unknown zone {name!r}")
        return ZoneInfo("UTC")
