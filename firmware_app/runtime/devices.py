"""Device jobs run on the worker threads; each ends by posting one event, whatever happened."""

from __future__ import annotations

import logging
from collections.abc import Callable

from firmware_app.flow.events import (
    DocumentPresented,
    DocumentUnacceptable,
    Event,
    FaceChecked,
    PrinterChecked,
    PrintSucceeded,
    PrintUnsuccessful,
)
from firmware_app.flow.states import FaceVerdict
from firmware_app.identity.document import Document, DocumentProblem, DocumentReader, DocumentRefusal
from firmware_app.runtime import requests
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.ports import FaceCheck
from firmware_app.slip import SlipContent, compose_slip
from hal.printer import Printed, Printer, PrintFailed, PrintStage

log = logging.getLogger(__name__)

Post = Callable[[Event], None]


def read_card(reader: DocumentReader, post: Post) -> None:
    try:
        result: Document | DocumentRefusal = reader.read()
    except Exception:
        log.exception("document reader failed")
        result = DocumentRefusal(DocumentProblem.UNREADABLE, "کارت خوانده نشد؛ دوباره وارد کنید.")
    post(DocumentPresented(requests.new_id(), result) if isinstance(result, Document)
         else DocumentUnacceptable(result))


def check_printer(printer: Printer, tx_id: str, post: Post) -> None:
    try:
        status = printer.status()
    except Exception:
        log.exception("printer status failed")
        post(PrinterChecked(tx_id, False, "internal error"))
        return
    post(PrinterChecked(tx_id, status.can_print, status.detail or status.state.value))


def check_face(face_check: FaceCheck, tx_id: str, photo: bytes, post: Post) -> None:
    try:
        outcome = face_check(photo)
    except Exception:
        log.exception("face check failed")
        post(FaceChecked(tx_id, FaceVerdict.UNAVAILABLE, None, "خطای داخلی بررسی چهره"))
        return
    post(FaceChecked(tx_id, outcome.verdict, outcome.distance, outcome.message))


def print_slip(printer: Printer, slip: SlipContent, width_dots: int, tx_id: str, post: Post,
               faults: FaultPoints) -> None:
    try:
        result = printer.print_document(compose_slip(slip, width_dots))
    except Exception:
        log.exception("printing failed")
        post(PrintUnsuccessful(tx_id, PrintStage.DURING, "internal error"))
        return
    faults.reached(f"printer returned {type(result).__name__}")
    match result:
        case Printed():
            post(PrintSucceeded(tx_id))
        case PrintFailed(stage=stage, status=status):
            post(PrintUnsuccessful(tx_id, stage, status.detail or status.state.value))
