"""What the runtime needs from the world, as small interfaces: link, slip composer, display, lights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from firmware_app.flow.effects import Signal
from hal.printer import PrintDocument
from protocol.messages import DocumentKind


@dataclass(frozen=True)
class SlipRequest:
    """Everything printed on one voting slip."""

    inquiry_code: str
    branch: str
    terminal: str
    serial: int
    document: DocumentKind
    issued_at: datetime
    reprint: bool
    training: bool


class SlipComposer(Protocol):
    def __call__(self, request: SlipRequest) -> PrintDocument: ...


class RequestChannel(Protocol):
    """Publishes requests to the center; answers come back through the runtime's `answer_arrived`."""

    def publish_request(self, payload: bytes) -> bool: ...


class OperatorDisplay(Protocol):
    def show(self, message: str) -> None: ...


class Indicators(Protocol):
    def indicate(self, signal: Signal) -> None: ...
