"""Every component's health as one value; the self-test before opening and telemetry read these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.flow.events import SelfTestFinished


@dataclass(frozen=True)
class Health:
    """`essential` components must be healthy for the polls to open; others only warn."""

    component: str
    ok: bool
    essential: bool
    detail: str = ""


HealthCheck = Callable[[], Health]


def run_self_test(checks: Sequence[HealthCheck]) -> tuple[SelfTestFinished, list[Health]]:
    """Run every check (a failing check is a problem, not a crash) and sort the findings."""
    results = []
    for check in checks:
        try:
            results.append(check())
        except Exception as exc:
            results.append(Health(getattr(check, "__name__", "device"), False, True, type(exc).__name__))
    problems = tuple(f"{h.component}: {h.detail}" for h in results if not h.ok and h.essential)
    warnings = tuple(f"{h.component}: {h.detail}" for h in results if not h.ok and not h.essential)
    return SelfTestFinished(problems, warnings), results
