"""Every component's health as one value; the self-test before opening and telemetry read these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_app.flow.events import SelfTestFinished
from firmware_app.flow.notices import Component, Finding
from firmware_app.identity.smart_card import CardDocumentReader
from hal.camera import Camera
from hal.card_reader import ReaderState
from hal.printer import Printer


@dataclass(frozen=True)
class Health:
    """`essential` components must be healthy for the polls to open; others only warn."""

    component: Component
    ok: bool
    essential: bool
    condition: str = ""
    """The device's status value (`no_paper`, `no_reader`, `unreachable`, `fault`); the texts render it."""


@dataclass(frozen=True)
class HealthCheck:
    """How to ask one component: `probe` gives whether it is well and its status value."""

    component: Component
    essential: bool
    probe: Callable[[], tuple[bool, str]]


class FaultsOnce:
    """For a watch that asks the devices again and again: a check that raises on every look is handed to `fault`
    (audited) once, until it answers again, not once a look."""

    def __init__(self, fault: Callable[[str, Exception], None]) -> None:
        self._fault = fault
        self._raised: set[str] = set()
        self._raising: set[str] = set()

    def __call__(self, handling: str, exc: Exception) -> None:
        self._raising.add(handling)
        if handling not in self._raised:
            self._fault(handling, exc)

    def looked(self) -> None:
        """One look is over: what did not raise in it will be audited again if it raises later."""
        self._raised, self._raising = self._raising, set()


def run_self_test(checks: Sequence[HealthCheck], fault: Callable[[str, Exception], None] | None = None
                  ) -> tuple[SelfTestFinished, list[Health]]:
    """Run every check and sort the findings. A check that raises is a bug: its component counts as failed
    (essential, so the polls do not open on it) and the fault is reported, to be audited as an alarm."""
    results = []
    for check in checks:
        try:
            ok, condition = check.probe()
            results.append(Health(check.component, ok, check.essential, condition))
        except Exception as exc:
            results.append(Health(check.component, False, True, "fault"))
            if fault is not None:
                fault(f"health check {check.component.value}", exc)
    problems = tuple(Finding(h.component, h.condition) for h in results if not h.ok and h.essential)
    warnings = tuple(Finding(h.component, h.condition) for h in results if not h.ok and not h.essential)
    return SelfTestFinished(problems, warnings), results


def printer_health(printer: Printer) -> HealthCheck:
    """The printer must be able to print a slip: essential."""

    def probe() -> tuple[bool, str]:
        status = printer.status()
        return status.can_print, status.state.value

    return HealthCheck(Component.PRINTER, True, probe)


def link_health(connected: Callable[[], bool]) -> HealthCheck:
    """The center must be reachable to ask it about a voter: essential."""

    def probe() -> tuple[bool, str]:
        up = connected()
        return up, "connected" if up else "unreachable"

    return HealthCheck(Component.CENTER_LINK, True, probe)


def reader_health(reader: CardDocumentReader) -> HealthCheck:
    """The card reader must be there (with or without a card): essential."""

    def probe() -> tuple[bool, str]:
        state = reader.status().state
        return state in {ReaderState.NO_CARD, ReaderState.CARD_PRESENT}, state.value

    return HealthCheck(Component.CARD_READER, True, probe)


def camera_health(camera: Camera) -> HealthCheck:
    """A camera without frames only warns: the operator can still compare by eye."""

    def probe() -> tuple[bool, str]:
        status = camera.status()
        return status.has_frames, status.state.value

    return HealthCheck(Component.CAMERA, False, probe)
