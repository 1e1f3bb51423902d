"""Device jobs run on the worker threads; each ends by posting one event, whatever happened.

A driver returns device trouble as a status value; an exception from it is a bug. The job then posts
the "not ready" event the flow expects (so the voter's screen moves on) and reports the fault, which the
loop audits as an alarm: a bug never passes as a paper-out."""

from __future__ import annotations

from collections.abc import Callable

from firmware_app.flow.events import (
    DocumentPresented,
    DocumentUnacceptable,
    Event,
    FaceChecked,
    PrinterChecked,
    PrintSucceeded,
    PrintUnsuccessful,
    ReportNotPrinted,
    ReportPrinted,
)
from firmware_app.flow.states import ReportKind
from firmware_app.identity.document import Document, DocumentProblem, DocumentReader, DocumentRefusal
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from firmware_app.runtime import requests
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.ports import FaceCheck
from firmware_app.slip import SlipContent, compose_slip
from hal.printer import PrintDocument, Printed, Printer, PrinterState, PrinterStatus, PrintFailed, PrintStage

FAULTED = PrinterStatus(PrinterState.ERROR, "fault")
"""What the flow is told when the printer driver raised: the printer cannot be trusted to print."""

Post = Callable[[Event], None]
Fault = Callable[[str, Exception], None]
"""Report a bug met on a device thread: which job, and the exception (its type and place are kept)."""


def read_card(reader: DocumentReader, post: Post, fault: Fault) -> None:
    try:
        result: Document | DocumentRefusal = reader.read()
    except Exception as exc:
        fault("document reader", exc)
        result = DocumentRefusal(DocumentProblem.UNREADABLE, "fault")
    post(DocumentPresented(requests.new_id(), result) if isinstance(result, Document)
         else DocumentUnacceptable(result))


def check_printer(printer: Printer, tx_id: str, post: Post, fault: Fault) -> None:
    try:
        status = printer.status()
    except Exception as exc:
        fault("printer status", exc)
        status = FAULTED
    post(PrinterChecked(tx_id, status))


def check_face(face_check: FaceCheck, tx_id: str, photo: bytes, post: Post, fault: Fault) -> None:
    try:
        outcome = face_check(photo)
    except Exception as exc:
        fault("face check", exc)
        post(FaceChecked(tx_id, FaceVerdict.UNAVAILABLE, None, FaceProblem.CHECK_FAULT))
        return
    post(FaceChecked(tx_id, outcome.verdict, outcome.distance, outcome.problem))


def print_slip(printer: Printer, slip: SlipContent, width_dots: int, tx_id: str, post: Post,
               faults: FaultPoints, fault: Fault) -> None:
    try:
        result = printer.print_document(compose_slip(slip, width_dots))
    except Exception as exc:
        fault("printing", exc)
        post(PrintUnsuccessful(tx_id, PrintStage.DURING, FAULTED))
        return
    faults.reached(f"printer returned {type(result).__name__}")
    match result:
        case Printed():
            post(PrintSucceeded(tx_id))
        case PrintFailed(stage=stage, status=status):
            post(PrintUnsuccessful(tx_id, stage, status))


def print_report(printer: Printer, document: PrintDocument, kind: ReportKind, post: Post, fault: Fault) -> None:
    try:
        result = printer.print_document(document)
    except Exception as exc:
        fault(f"printing the {kind.value} report", exc)
        post(ReportNotPrinted(kind, FAULTED))
        return
    post(ReportPrinted(kind) if isinstance(result, Printed) else ReportNotPrinted(kind, result.status))
