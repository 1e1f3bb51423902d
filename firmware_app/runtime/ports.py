"""What the runtime needs from the world, as small interfaces: link, devices, display."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from firmware_app.flow.notices import Notice
from firmware_app.identity.document import DocumentReader
from firmware_app.identity.live_check import FaceOutcome
from firmware_app.runtime.health import HealthCheck
from hal.buttons import Buttons
from hal.indicators import Indicators
from hal.printer import Printer


class RequestChannel(Protocol):
    """Publishes requests to the center; answers come back through the runtime's `answer_arrived`."""

    def publish_request(self, payload: bytes) -> bool: ...

    def tell_peers(self, permit_id: str, sequence: int, payload: bytes) -> bool:
        """One of this terminal's OFFLINE slips for its permit's other terminals (protocol.peer_slip)."""
        ...


class OperatorDisplay(Protocol):
    """Where the operator is told things: a typed notice (the screen or the log renders it with `flow.texts`)."""

    def show(self, notice: Notice) -> None: ...


class FaceCheck(Protocol):
    """Blocking: compares the person at the camera with the card photo."""

    def __call__(self, photo: bytes) -> FaceOutcome: ...


@dataclass
class Devices:
    """The terminal's devices as the runtime sees them; only the printer is required."""

    printer: Printer
    paper_width_dots: int = 576
    reader: DocumentReader | None = None
    buttons: Buttons | None = None
    indicators: Indicators | None = None
    face_check: FaceCheck | None = None
    health_checks: list[HealthCheck] = field(default_factory=list)
