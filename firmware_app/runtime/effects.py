"""Executing the flow's effects: journal first (one SQL transaction per step), then the side effects."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, assert_never

from firmware_app.flow.effects import (
    Alarm,
    CheckFace,
    CheckPrinter,
    Count,
    Effect,
    Indicate,
    PrintReport,
    PrintSlip,
    RecordExtension,
    RecordStage,
    ResendReserve,
    RunSelfTest,
    SendClose,
    SendCommit,
    SendOpen,
    SendReserve,
    SendVoid,
    SetPolls,
    Show,
    Signal,
    StartDeadline,
)
from firmware_app.flow.events import TxStage
from firmware_app.flow.states import ReportKind
from firmware_app.runtime import requests
from firmware_app.runtime.ports import OperatorDisplay, RequestChannel
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.slip import SlipContent
from firmware_app.store.journal import Journal, OutboxEntry
from protocol.messages import (
    CloseBody,
    CloseCounts,
    CommitBody,
    OpenBody,
    RequestKind,
    ReserveBody,
    VoidBody,
)
from protocol.national_code import keyed_hash
from protocol.seal import seal_national_code

log = logging.getLogger(__name__)

Action = Callable[[], None]


class Shell(Protocol):
    """What the event loop does for effects that reach devices and timers (always off the loop's thread)."""

    def check_printer(self, tx_id: str) -> None: ...

    def check_face(self, tx_id: str, photo: bytes) -> None: ...

    def run_self_test(self) -> None: ...

    def print_slip(self, tx_id: str, slip: SlipContent) -> None: ...

    def print_report(self, kind: ReportKind, counts: CloseCounts, at: datetime) -> None: ...

    def extend_to(self, until: datetime) -> None: ...

    def start_deadline(self, effect: StartDeadline) -> None: ...

    def indicate(self, signal: Signal) -> None: ...


class EffectRunner:
    """Turns each effect into its journal writes (now) and a side-effect action (after the commit)."""

    def __init__(
        self,
        settings: RuntimeSettings,
        journal: Journal,
        channel: RequestChannel,
        display: OperatorDisplay,
        shell: Shell,
    ) -> None:
        self._settings = settings
        self._journal = journal
        self._channel = channel
        self._display = display
        self._shell = shell

    def journal(self, effect: Effect, at: datetime) -> Action | None:
        """Write what the effect needs to the journal (inside the caller's transaction); return its action."""
        journal = self._journal
        match effect:
            case CheckPrinter(tx_id=tx_id):
                return lambda: self._shell.check_printer(tx_id)
            case CheckFace(tx_id=tx_id, photo=photo):
                return lambda: self._shell.check_face(tx_id, photo)
            case RunSelfTest():
                return self._shell.run_self_test
            case PrintReport(kind=kind):
                counts = journal.close_counts()
                journal.audit(at, "report", {"kind": kind.value})
                return lambda: self._shell.print_report(kind, counts, at)
            case RecordExtension(until=until):
                journal.set_closing_time(until)
                return lambda: self._shell.extend_to(until)
            case SendReserve(tx_id=tx_id, document=document):
                sealed = seal_national_code(document.national_code, self._settings.center_sealing_key)
                body = ReserveBody(sealed_voter=sealed, document=document.kind, training=self._settings.training)
                entry = requests.build(self._settings, tx_id, body, at)
                key = keyed_hash(self._settings.voter_key, document.national_code)
                journal.add_transaction(tx_id, document.kind, key, self._settings.training, at)
                journal.enqueue(entry, at)
                return self._publisher(entry)
            case ResendReserve(tx_id=tx_id):
                found = journal.outbox_entry(tx_id, RequestKind.RESERVE)
                if found is None:
                    raise RuntimeError(f"no reserve in the outbox for {tx_id}")
                journal.note_attempt(found.request_id)
                return self._publisher(found)
            case SendCommit(tx_id=tx_id, inquiry_code=code):
                record = journal.transaction(tx_id)
                reprints = 1 if record is not None and record.reprint_next else 0
                entry = requests.build(self._settings, tx_id, CommitBody(code, reprints), at)
                journal.set_stage(tx_id, TxStage.COMMIT_PENDING, at)
                journal.enqueue(entry, at)
                return self._publisher(entry)
            case SendVoid(tx_id=tx_id, reason=reason):
                entry = requests.build(self._settings, tx_id, VoidBody(reason), at)
                journal.set_stage(tx_id, TxStage.VOID_PENDING, at)
                journal.enqueue(entry, at)
                return self._publisher(entry)
            case SendOpen():
                body_open = OpenBody(self._settings.software_version, self._settings.config_hash)
                entry = requests.build(self._settings, requests.new_id(), body_open, at)
                journal.enqueue(entry, at)
                return self._publisher(entry)
            case SendClose():
                entry = requests.build(self._settings, requests.new_id(), CloseBody(journal.close_counts()), at)
                journal.enqueue(entry, at)
                return self._publisher(entry)
            case RecordStage(tx_id=tx_id, stage=stage, inquiry_code=code, paper_moved=moved):
                journal.set_stage(tx_id, stage, at, inquiry_code=code, paper_moved=moved)
                return None
            case PrintSlip(tx_id=tx_id, inquiry_code=code, document=document, reprint=reprint):
                serial = journal.assign_serial(tx_id)
                journal.set_stage(tx_id, TxStage.PRINTING, at)
                identity = self._settings.identity
                slip = SlipContent(code, identity.branch, identity.terminal, serial, document, at, reprint,
                                   self._settings.training)
                return lambda: self._shell.print_slip(tx_id, slip)
            case SetPolls(phase=phase):
                journal.set_polls(phase)
                return None
            case StartDeadline():
                return lambda: self._shell.start_deadline(effect)
            case Count(counter=counter):
                journal.bump(counter.value)
                return None
            case Show(message=message):
                return lambda: self._display.show(message)
            case Indicate(signal=signal):
                return lambda: self._shell.indicate(signal)
            case Alarm(message=message):
                journal.audit(at, "alarm", {"message": message})
                return lambda: log.warning("alarm: %s", message)
            case _:
                assert_never(effect)

    def _publisher(self, entry: OutboxEntry) -> Action:
        def publish() -> None:
            if not self._channel.publish_request(entry.payload):
                log.info("%s request queued until the broker is reachable", entry.kind.value)

        return publish
