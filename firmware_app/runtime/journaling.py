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
    CheckOffline,
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
    RecordOfflineIssue,
    RecordPermit,
    RecordPermitActivation,
    RecordPermitCodeFailed,
    RecordPermitEnd,
    RecordPermitStoodDown,
    RecordReconciled,
    RecordStage,
    ResendReserve,
    RunSelfTest,
    SendClose,
    SendCommit,
    SendMinutes,
    SendOfflineIssue,
    SendOpen,
    SendReserve,
    SendVoid,
    SetPolls,
    Show,
    StartDeadline,
    TellPeers,
)
from firmware_app.flow.events import Event, OfflineChecked, OfflineVerdict, TxStage
from firmware_app.flow.states import ReportKind
from firmware_app.identity.document import Document
from firmware_app.runtime import requests
from firmware_app.runtime.minutes import build_minutes, election_of
from firmware_app.runtime.peer_slips import PeerSlips
from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.runtime.snapshots import VotedSnapshots
from firmware_app.slip import SlipContent
from firmware_app.store.journal import Journal, OutboxEntry
from firmware_app.store.minutes import RecordedMinutes
from firmware_app.store.offline import OfflineSlip, PermitEventKind
from protocol.messages import (
    CloseBody,
    CloseCounts,
    CommitBody,
    MinutesBody,
    OfflineIssueBody,
    OfflineOutcome,
    OpenBody,
    RequestKind,
    ReserveBody,
    VoidBody,
)
from protocol.minutes import ElectionBundle, Minutes
from protocol.national_code import keyed_hash
from protocol.offline_code import OfflineIssue
from protocol.peer_slip import PeerSlip, encode_peer_slip, peer_key
from protocol.permit import PermitSecrets
from protocol.seal import seal_national_code, sign_offline_issue
from protocol.voted_snapshot import voter_tag64


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
class PostBack:
    """An event the journal alone could answer (the offline check of a voter), posted to the loop as its next."""

    event: Event


@dataclass(frozen=True)
class TellPeersJob:
    """Tell the permit's other terminals of an OFFLINE slip that is out (the line journaled with its record)."""

    permit_id: str
    sequence: int
    line: bytes


@dataclass(frozen=True)
class LogAlarm:
    kind: AlarmKind
    detail: str


Device = ReadCard | CheckPrinter | CheckFace | RunSelfTest | StartDeadline | CancelDeadline | Show | Indicate
"""Effects that need nothing from the journal: the shell carries them out as they are."""

Action = Publish | PrintSlipJob | PrintReportJob | PrintMinutesJob | LogAlarm | PostBack | TellPeersJob | Device


def journal_effect(effect: Effect, journal: Journal, settings: RuntimeSettings, at: datetime,
                   snapshots: VotedSnapshots | None = None, peers: PeerSlips | None = None) -> Action | None:
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
        case RecordReconciled(tx_id=tx_id, outcome=outcome):
            if not journal.set_offline_outcome(tx_id, outcome, at):
                raise JournalInconsistentError(f"the center's record of an offline slip the journal does not hold "
                                               f"({tx_id})")
            if journal.transaction(tx_id) is not None:
                stage = TxStage.DISPUTED if outcome is OfflineOutcome.REJECTED else TxStage.ISSUED
                journal.set_stage(tx_id, stage, at)
            return None
        case RecordPermit(permit_id=permit_id, signed=signed):
            journal.record_permit(permit_id, signed, at)
            return None
        case RecordPermitActivation(permit_id=permit_id, activation=activation, path=path):
            journal.permit_event(permit_id, PermitEventKind.ACTIVATION, at, activation=activation, path=path)
            return None
        case RecordPermitCodeFailed(permit_id=permit_id):
            journal.permit_event(permit_id, PermitEventKind.CODE_FAILED, at)
            return None
        case RecordPermitEnd(permit_id=permit_id, ended_at=ended_at):
            journal.permit_event(permit_id, PermitEventKind.END, at, ended_at=ended_at)
            return None
        case RecordPermitStoodDown(permit_id=permit_id):
            journal.permit_event(permit_id, PermitEventKind.STOOD_DOWN, at)
            return None
        case CheckOffline(tx_id=tx_id, document=document, permit_id=permit_id, secrets=secrets):
            return PostBack(_offline_check(tx_id, document, permit_id, secrets, journal, settings, snapshots, peers,
                                           at))
        case RecordOfflineIssue() as issued:
            _record_offline_issue(issued, journal, settings, at)
            return None
        case TellPeers(tx_id=tx_id):
            kept, line = journal.offline_slip(tx_id), journal.peer_line(tx_id)
            if kept is None or line is None:
                raise JournalInconsistentError(f"no offline issue record or peer line for {tx_id}")
            return TellPeersJob(kept.permit_id, kept.sequence, line)
        case SendOfflineIssue(tx_id=tx_id):
            offline = journal.offline_slip(tx_id)
            if offline is None:
                raise JournalInconsistentError(f"no offline issue record for {tx_id}")
            entry = requests.build(settings, tx_id, OfflineIssueBody(offline.record.decode("ascii")), at)
            journal.set_stage(tx_id, TxStage.COMMIT_PENDING, at)
            journal.enqueue(entry, at)
            return Publish(entry)
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
        case PrintSlip(tx_id=tx_id, inquiry_code=code, document=document, reprint=reprint, offline=offline):
            serial = journal.assign_serial(tx_id)
            journal.set_stage(tx_id, TxStage.PRINTING, at)
            identity = settings.identity
            slip = SlipContent(code, identity.branch, identity.terminal, serial, document, at, reprint,
                               settings.training, offline)
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


def _offline_check(tx_id: str, document: Document, permit_id: str, secrets: PermitSecrets, journal: Journal,
                   settings: RuntimeSettings, snapshots: VotedSnapshots | None, peers: PeerSlips | None,
                   at: datetime) -> OfflineChecked:
    """This terminal's slips first and then its permit's other terminals' OFFLINE slips (either is a refusal), then
    the snapshot (a hit goes to the head of branch)."""
    voter = keyed_hash(settings.voter_key, document.national_code)
    if journal.voter_has_slip(voter):
        return OfflineChecked(tx_id, OfflineVerdict.ISSUED_HERE, 0, at)
    tag = voter_tag64(secrets.snapshot_key, document.national_code)
    if peers is not None and peers.issued_by(permit_id, peer_key(secrets), tag) is not None:
        return OfflineChecked(tx_id, OfflineVerdict.ISSUED_AT_BRANCH, 0, at)
    if snapshots is None:
        return OfflineChecked(tx_id, OfflineVerdict.CLEAR, 0, at)
    found = snapshots.check(tag)
    return OfflineChecked(tx_id, OfflineVerdict.SNAPSHOT_HIT if found.hit else OfflineVerdict.CLEAR, found.version, at)


def _record_offline_issue(issued: RecordOfflineIssue, journal: Journal, settings: RuntimeSettings,
                          at: datetime) -> None:
    """The OFFLINE slip's transaction and its signed issue record (the national code sealed to the center, as in
    a reserve), journaled together before the print: the record is the slip's evidence and its later replay."""
    identity = settings.identity
    document = issued.document
    sealed = seal_national_code(document.national_code, settings.center_sealing_key)
    record = OfflineIssue(issued.permit_id, identity.district, identity.branch, identity.terminal, issued.activation,
                          issued.offline_code, issued.sequence, sealed, document.kind, issued.at,
                          issued.snapshot_version, issued.snapshot_hit)
    signed = sign_offline_issue(record, settings.terminal_signing_key)
    journal.add_transaction(issued.tx_id, document.kind, keyed_hash(settings.voter_key, document.national_code),
                            settings.training, at)
    journal.set_stage(issued.tx_id, TxStage.ELIGIBLE, at, inquiry_code=issued.offline_code)
    journal.record_offline_slip(OfflineSlip(issued.tx_id, issued.permit_id, issued.sequence, issued.offline_code,
                                            signed, None), at)
    told = PeerSlip(issued.permit_id, identity.terminal, issued.sequence,
                    voter_tag64(issued.secrets.snapshot_key, document.national_code), issued.at)
    journal.record_peer_line(issued.tx_id, encode_peer_slip(told, peer_key(issued.secrets)))


def _held_minutes(journal: Journal) -> RecordedMinutes:
    recorded = journal.minutes()
    if recorded is None:
        raise JournalInconsistentError("no minutes in the journal")
    return recorded
