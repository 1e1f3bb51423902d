"""Every component's health as one value; the self-test before opening and telemetry read these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.flow.events import SelfTestFinished
from firmware_app.identity.smart_card import CardDocumentReader
from hal.camera import Camera
from hal.card_reader import ReaderState


@dataclass(frozen=True)
class Health:
    """`essential` components must be healthy for the polls to open; others only warn."""

    component: str
    ok: bool
    essential: bool
    detail: str = ""


HealthCheck = Callable[[], Health]


def run_self_test(checks: Sequence[HealthCheck], fault: Callable[[str, Exception], None] | None = None
                  ) -> tuple[SelfTestFinished, list[Health]]:
    """Run every check and sort the findings. A check that raises is a bug: its component counts as failed
    (essential, so the polls do not open on it) and the fault is reported, to be audited as an alarm."""
    results = []
    for check in checks:
        try:
            results.append(check())
        except Exception as exc:
            name = getattr(check, "__name__", "device")
            results.append(Health(name, False, True, f"fault: {type(exc).__name__}"))
            if fault is not None:
                fault(f"health check {name}", exc)
    problems = tuple(f"{h.component}: {h.detail}" for h in results if not h.ok and h.essential)
    warnings = tuple(f"{h.component}: {h.detail}" for h in results if not h.ok and not h.essential)
    return SelfTestFinished(problems, warnings), results


def reader_health(reader: CardDocumentReader) -> HealthCheck:
    """The card reader must be there (with or without a card): essential."""

    def check() -> Health:
        state = reader.status().state
        return Health("کارت‌خوان", state in {ReaderState.NO_CARD, ReaderState.CARD_PRESENT}, True, state.value)

    return check


def camera_health(camera: Camera) -> HealthCheck:
    """A camera without frames only warns: the operator can still compare by eye."""

    def check() -> Health:
        status = camera.status()
        return Health("دوربین", status.has_frames, False, status.detail or status.state.value)

    return check
