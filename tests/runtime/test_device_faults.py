"""A driver that raises is a bug: the flow still gets its "not ready" event, and the fault is reported."""

from __future__ import annotations

from firmware_app.flow.events import Event, PrinterChecked, PrintUnsuccessful
from firmware_app.flow.notices import Component, Finding
from firmware_app.runtime import devices
from firmware_app.runtime.faults import NoFaults
from firmware_app.runtime.health import HealthCheck, run_self_test
from hal.printer import PrintDocument, PrinterStatus, PrintResult
from tests.printing.conftest import slip_content


class RaisingPrinter:
    """A driver with a bug: every call raises (as a driver must never do for a device problem)."""

    def status(self) -> PrinterStatus:
        raise TypeError("a bug in the driver")

    def print_document(self, document: PrintDocument) -> PrintResult:
        raise KeyError("a bug in the driver")

    def close(self) -> None:
        return None


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.faults: list[tuple[str, str]] = []

    def post(self, event: Event) -> None:
        self.events.append(event)

    def fault(self, where: str, exc: Exception) -> None:
        self.faults.append((where, type(exc).__name__))


def test_a_raising_printer_status_is_not_ready_and_a_reported_fault() -> None:
    seen = Recorder()
    devices.check_printer(RaisingPrinter(), "tx", seen.post, seen.fault)
    assert seen.events == [PrinterChecked("tx", devices.FAULTED)]
    assert not devices.FAULTED.can_print
    assert seen.faults == [("printer status", "TypeError")]


def test_a_raising_print_job_is_unsuccessful_and_a_reported_fault() -> None:
    seen = Recorder()
    devices.print_slip(RaisingPrinter(), slip_content(), 576, "tx", seen.post, NoFaults(), seen.fault)
    assert [type(e) for e in seen.events] == [PrintUnsuccessful]
    assert seen.faults == [("printing", "KeyError")]


def test_a_health_check_that_raises_fails_its_component_and_is_reported() -> None:
    seen = Recorder()

    def camera_check() -> tuple[bool, str]:
        raise RuntimeError("a bug")

    def fine() -> tuple[bool, str]:
        return True, "ready"

    checks = [HealthCheck(Component.PRINTER, True, fine), HealthCheck(Component.CAMERA, False, camera_check)]
    finished, results = run_self_test(checks, seen.fault)
    assert finished.problems == (Finding(Component.CAMERA, "fault"),), "a bug fails its component, as essential"
    assert [r.ok for r in results] == [True, False]
    assert seen.faults == [("health check camera", "RuntimeError")]
