"""The terminal's one TOML config file, validated at start-up: every option read, unknown ones refused."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from drivers.escpos import PROFILES

_SECTIONS: dict[str, dict[str, type]] = {
    "terminal": {"provisioning_dir": str, "state_dir": str, "training": bool, "timezone": str},
    "broker": {"host": str, "port": int},
    "printer": {"device": str, "profile": str},
    "card": {"reader": str, "extended_reads": bool},
    "camera": {"source": str},
    "gpio": {"enabled": bool},
}
_OPTIONAL = {("card", "reader"), ("camera", "source"), ("terminal", "training")}


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
            if type(table[key]) is not kind:
                problems.append(f"[{section}] {key}: must be {kind.__name__}")
                continue
            values[(section, key)] = table[key]
    zone = _zone(values.get(("terminal", "timezone"), "Asia/Tehran"), problems)
    profile = values.get(("printer", "profile"))
    if profile is not None and profile not in PROFILES:
        problems.append(f"[printer] profile: one of {sorted(PROFILES)}")
    port = values.get(("broker", "port"), 0)
    if ("broker", "port") in values and not 1 <= port <= 65535:
        problems.append("[broker] port: 1-65535")
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
    )


def _zone(name: str, problems: list[str]) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"[terminal] timezone: unknown zone {name!r}")
        return ZoneInfo("UTC")
