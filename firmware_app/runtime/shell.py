"""The imperative shell: carries out what a step left to do, on devices, timers and the link; it only posts back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import assert_never

from firmware_app.flow.effects import (
    CancelDeadline,
    CheckFace,
    CheckPrinter,
    Indicate,
    ReadCard,
    RunSelfTest,
    Show,
    StartDeadline,
)
from firmware_app.flow.events import DeadlineExpired, FaceChecked, ReportNotPrinted
from firmware_app.flow.states import ReportKind
from firmware_app.identity.verdict import FaceProblem, FaceVerdict
from firmware_app.runtime import devices
from firmware_app.runtime.devices import FAULTED, Fault, Post
from firmware_app.runtime.faults import FaultPoints
from firmware_app.runtime.health import link_health, printer_health, run_self_test
from firmware_app.runtime.journaling import (
    Action,
    LogAlarm,
    PostBack,
    PrintMinutesJob,
    PrintReportJob,
    PrintSlipJob,
    Publish,
    TellPeersJob,
)
from firmware_app.runtime.ports import Devices, OperatorDisplay, RequestChannel
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.slip import ReportHeader, compose_closing_report, compose_minutes, compose_zero_report
from hal.printer import PrintDocument

log = logging.getLogger(__name__)


class Shell:
    """Device work runs on two worker threads and ends by posting one event; the deadline is one timer."""

    def __init__(self, settings: RuntimeSettings, devices_: Devices, channel: RequestChannel,
                 display: OperatorDisplay, post: Post, fault: Fault, faults: FaultPoints,
                 connected: Callable[[], bool]) -> None:
        self._settings = settings
        self._devices = devices_
        self._channel = channel
        self._display = display
        self._post = post
        self._fault = fault
        self._faults = faults
        self._connected = connected
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="device")
        self._deadline: threading.Timer | None = None

    def perform(self, action: Action) -> None:
        match action:
            case Publish(entry=entry):
                if not self._channel.publish_request(entry.payload):
                    log.info("%s request queued until the broker is reachable", entry.kind.value)
            case Show(notice=notice):
                self._display.show(notice)
            case Indicate(signal=signal):
                if self._devices.indicators is not None:
                    self._devices.indicators.show(signal)
            case StartDeadline(tx_id=tx_id, kind=kind):
                self._cancel_deadline()
                self._deadline = threading.Timer(self._settings.deadlines[kind], self._post,
                                                 (DeadlineExpired(tx_id, kind),))
                self._deadline.daemon = True
                self._deadline.start()
            case CancelDeadline():
                self._cancel_deadline()
            case ReadCard():
                reader = self._devices.reader
                if reader is not None:
                    self._workers.submit(devices.read_card, reader, self._post, self._fault)
            case CheckPrinter(tx_id=tx_id):
                self._workers.submit(devices.check_printer, self._devices.printer, tx_id, self._post, self._fault)
            case CheckFace(tx_id=tx_id, photo=photo):
                face_check = self._devices.face_check
                if face_check is None:
                    self._post(FaceChecked(tx_id, FaceVerdict.UNAVAILABLE, None, FaceProblem.NO_CAMERA))
                else:
                    self._workers.submit(devices.check_face, face_check, tx_id, photo, self._post, self._fault)
            case RunSelfTest():
                checks = [printer_health(self._devices.printer), link_health(self._connected),
                          *self._devices.health_checks]
                self._workers.submit(lambda: self._post(run_self_test(checks, self._fault)[0]))
            case PrintSlipJob(tx_id=tx_id, slip=slip):
                self._workers.submit(devices.print_slip, self._devices.printer, slip, self._devices.paper_width_dots,
                                     tx_id, self._post, self._faults, self._fault)
            case PrintReportJob(kind=kind, counts=counts, at=at):
                width = self._devices.paper_width_dots
                document: PrintDocument = (compose_zero_report(self._header(at), width) if kind is ReportKind.ZERO
                                           else compose_closing_report(self._header(at), counts, width))
                self._workers.submit(devices.print_report, self._devices.printer, document, kind, self._post,
                                     self._fault)
            case PrintMinutesJob():
                self._workers.submit(self._print_minutes, action)
            case LogAlarm(kind=kind, detail=detail):
                log.warning("alarm: %s %s", kind.value, detail)
            case PostBack(event=event):
                self._post(event)
            case TellPeersJob(permit_id=permit_id, sequence=sequence, line=line):
                if not self._channel.tell_peers(permit_id, sequence, line):
                    log.info("OFFLINE slip %d not told to the permit's other terminals: the broker is away", sequence)
            case _:
                assert_never(action)

    def _header(self, at: datetime) -> ReportHeader:
        settings = self._settings
        return ReportHeader(settings.identity.terminal, settings.identity.branch, settings.software_version,
                            settings.software_hash, settings.config_hash, at, settings.training)

    def _print_minutes(self, job: PrintMinutesJob) -> None:
        """On a worker: the minutes (their rasters take a while) composed, then printed like a report; a bug
        composing them is a fault and a print that did not happen, never a loop that stops."""
        try:
            document = compose_minutes(self._header(job.at), job.minutes, job.minutes_hash, job.bundle, job.reprint,
                                       self._devices.paper_width_dots)
        except Exception as exc:
            self._fault("composing the minutes", exc)
            self._post(ReportNotPrinted(ReportKind.MINUTES, FAULTED))
            return
        devices.print_report(self._devices.printer, document, ReportKind.MINUTES, self._post, self._fault)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def close(self) -> None:
        self._cancel_deadline()
        self._workers.shutdown(wait=True, cancel_futures=True)
