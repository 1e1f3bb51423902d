"""Each effect's journal writes, inside the step's one SQL transaction; what is left to do after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from firmware_app.flow.effects import (
    Alarm,
    AlarmKind,
    CancelDeadline,
    CheckFace,
    CheckPrinter,
    Count,
    Effect,
    Indicate,
    PrintMinutes,
    PrintReport,
    PrintSlip,
    ReadCard,
    RecordBranchCommitted,
    RecordExtension,
    RecordInstructions,
    RecordMinutes,
    RecordMinutesAnswer,
    RecordStage,
    ResendReserve,
    RunSelfTest,
    SendClose,
    SendCommit,
    SendMinutes,
    SendOpen,
    SendReserve,
    SendVoid,
    SetPolls,
    Show,
    StartDeadline,
)
from firmware_app.flow.events import TxStage
from firmware_app.flow.states import ReportKind
from firmware_app.runtime import requests
from firmware_app.runtime.minutes import build_minutes, election_of
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.slip import SlipContent
from firmware_app.store.journal import Journal, OutboxEntry
from firmware_app.store.minutes import RecordedMinutes
from protocol.messages import (
    CloseBody,
    CloseCounts,
    CommitBody,
    MinutesBody,
    OpenBody,
    RequestKind,
    ReserveBody,
    VoidBody,
)
from protocol.minutes import ElectionBundle, Minutes
from protocol.national_code import keyed_hash
from protocol.seal import seal_national_code


class JournalInconsistentError(Exception):
    """The flow asked for something the journal does not hold (a bug): the step is rolled back."""


@dataclass(frozen=True)
class Publish:
    """Send a request the journal now holds in its outbox."""

    entry: OutboxEntry


@dataclass(frozen=True)
class PrintSlipJob:
    tx_id: str
    slip: SlipContent


@dataclass(frozen=True)
class PrintReportJob:
    kind: ReportKind
    counts: CloseCounts
    at: datetime


@dataclass(frozen=True)
class PrintMinutesJob:
    """The journaled minutes to print, with the bundle that names their elections and candidates."""

    minutes: Minutes
    minutes_hash: str
    bundle: ElectionBundle
    reprint: bool
    at: datetime


@dataclass(frozen=True)
class LogAlarm:
    kind: AlarmKind
    detail: str


Device = ReadCard | CheckPrinter | CheckFace | RunSelfTest | StartDeadline | CancelDeadline | Show | Indicate
"""Effects that need nothing from the journal: the shell carries them out as they are."""

Action = Publish | PrintSlipJob | PrintReportJob | PrintMinutesJob | LogAlarm | Device


def journal_effect(effect: Effect, journal: Journal, settings: RuntimeSettings, at: datetime) -> Action | None:
    """Write what the effect needs to the journal (inside the caller's transaction); return what the shell must
    then do, or None when the journal write is the whole effect."""
    match effect:
        case ReadCard() | CheckPrinter() | CheckFace() | RunSelfTest() | StartDeadline() | CancelDeadline() \
                | Show() | Indicate():
            return effect
        case PrintReport(kind=kind):
            counts = journal.close_counts()
            journal.audit(at, "report", {"kind": kind.value})
            return PrintReportJob(kind, counts, at)
        case RecordExtension(until=until):
            journal.set_closing_time(until)
            return None
        case RecordBranchCommitted(count=count):
            journal.set_branch_committed(count)
            return None
        case RecordInstructions(instructions=instructions):
            journal.set_instructions(instructions)
            return None
        case RecordMinutes(figures=figures, officials=officials):
            journal.record_minutes(requests.new_id(), build_minutes(settings, journal, figures, officials, at), at)
            return None
        case PrintMinutes(reprint=reprint):
            recorded = _held_minutes(journal)
            journal.audit(at, "report", {"kind": ReportKind.MINUTES.value, "reprint": reprint})
            return PrintMinutesJob(recorded.minutes, recorded.minutes_hash, election_of(settings).bundle, reprint, at)
        case SendMinutes():
            recorded = _held_minutes(journal)
            entry = requests.build(settings, recorded.tx_id, MinutesBody(recorded.minutes), at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case RecordMinutesAnswer(outcome=outcome):
            if not journal.set_minutes_outcome(outcome, at):
                raise JournalInconsistentError("an answer to minutes the journal does not hold")
            return None
        case SendReserve(tx_id=tx_id, document=document):
            sealed = seal_national_code(document.national_code, settings.center_sealing_key)
            body = ReserveBody(sealed_voter=sealed, document=document.kind, training=settings.training)
            entry = requests.build(settings, tx_id, body, at)
            journal.add_transaction(tx_id, document.kind, keyed_hash(settings.voter_key, document.national_code),
                                    settings.training, at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case ResendReserve(tx_id=tx_id):
            found = journal.outbox_entry(tx_id, RequestKind.RESERVE)
            if found is None:
                raise JournalInconsistentError(f"no reserve in the outbox for {tx_id}")
            journal.note_attempt(found.request_id)
            return Publish(found)
        case SendCommit(tx_id=tx_id, inquiry_code=code):
            record = journal.transaction(tx_id)
            reprints = 1 if record is not None and record.reprint_next else 0
            entry = requests.build(settings, tx_id, CommitBody(code, reprints), at)
            journal.set_stage(tx_id, TxStage.COMMIT_PENDING, at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case SendVoid(tx_id=tx_id, reason=reason):
            entry = requests.build(settings, tx_id, VoidBody(reason), at)
            journal.set_stage(tx_id, TxStage.VOID_PENDING, at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case SendOpen():
            entry = requests.build(settings, requests.new_id(), OpenBody(settings.software_version,
                                                                         settings.config_hash), at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case SendClose():
            entry = requests.build(settings, requests.new_id(), CloseBody(journal.close_counts()), at)
            journal.enqueue(entry, at)
            return Publish(entry)
        case RecordStage(tx_id=tx_id, stage=stage, inquiry_code=code, paper_moved=moved):
            journal.set_stage(tx_id, stage, at, inquiry_code=code, paper_moved=moved)
            return None
        case PrintSlip(tx_id=tx_id, inquiry_code=code, document=document, reprint=reprint):
            serial = journal.assign_serial(tx_id)
            journal.set_stage(tx_id, TxStage.PRINTING, at)
            identity = settings.identity
            slip = SlipContent(code, identity.branch, identity.terminal, serial, document, at, reprint,
                               settings.training)
            return PrintSlipJob(tx_id, slip)
        case SetPolls(phase=phase):
            journal.set_polls(phase)
            return None
        case Count(counter=counter):
            journal.bump(counter.value)
            return None
        case Alarm(kind=kind, detail=detail):
            journal.audit(at, "alarm", {"alarm": kind.value, "detail": detail})
            return LogAlarm(kind, detail)
        case _:
            assert_never(effect)


def _held_minutes(journal: Journal) -> RecordedMinutes:
    recorded = journal.minutes()
    if recorded is None:
        raise JournalInconsistentError("no minutes in the journal")
    return recorded
