"""The journal part of offline operation's effects, each written inside the step's transaction before anything it
permits: the permits' ledger rebuilt from their events, the OFFLINE slip's signed record (the national code sealed
to the center) before its print, its replay in the outbox before it is published, the check of a voter against the
journal, and the center's record of a slip."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from center.voted_snapshot import build_chunks, sign_chunks
from firmware_app.flow import effects as fx
from firmware_app.flow.events import OfflineChecked, OfflineVerdict, TxStage
from firmware_app.identity.document import Document
from firmware_app.runtime.journaling import (
    JournalInconsistentError,
    PostBack,
    Publish,
    TellPeersJob,
    journal_effect,
)
from firmware_app.runtime.peer_slips import PeerSlips
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.runtime.snapshots import VotedSnapshots
from firmware_app.store.journal import Journal
from firmware_app.store.offline import OfflineSlip
from protocol.codec import ProtocolError
from protocol.messages import DocumentKind, OfflineIssueBody, OfflineOutcome, RequestKind
from protocol.national_code import NationalCode, complete_national_code
from protocol.offline_code import OfflineIssue, offline_code
from protocol.peer_slip import PeerSlip, encode_peer_slip, holds, parse_peer_slip, peer_key
from protocol.permit import ActivationPath, PermitLedger, PermitSecrets
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_offline_issue,
    open_request,
    public_part,
    unseal_national_code,
)
from protocol.topics import peer_slip_topic
from protocol.voted_snapshot import ChunkKind, voter_tag64

OPENS = datetime(2026, 6, 12, 3, 30, tzinfo=UTC)
AT = OPENS + timedelta(hours=14)
SEALING = generate_sealing_key()
TERMINAL_KEY = generate_signing_key()
CENTER_KEY = generate_signing_key()
SNAPSHOT_KEY = b"s" * 32
SECRETS = PermitSecrets(b"a" * 32, SNAPSHOT_KEY)
SETTINGS = RuntimeSettings(
    TerminalIdentity(terminal="T-0101", branch="B-0101", district="D01"), False, public_part(CENTER_KEY),
    public_part(SEALING), TERMINAL_KEY, b"k" * 32, "0", "0" * 64, "0" * 64, OPENS, OPENS + timedelta(hours=11), {},
)
PERMIT_ID = "c" * 32
VOTER = NationalCode(complete_national_code("001234567"))
DOCUMENT = Document(DocumentKind.SMART_CARD, VOTER)
CODE = offline_code(bytes(32), PERMIT_ID, "T-0101", 1, 1)
SLIP = OfflineSlip("a" * 32, "b" * 32, 1, "01000173158", b"signed record", None)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.db")


def _do(journal: Journal, effect: fx.Effect, snapshots: VotedSnapshots | None = None,
        peers: PeerSlips | None = None) -> object:
    with journal.atomic():
        return journal_effect(effect, journal, SETTINGS, AT, snapshots, peers)


def _issue(journal: Journal, tx_id: str = "a" * 32) -> None:
    _do(journal, fx.RecordPermit(PERMIT_ID, b"signed permit"))
    _do(journal, fx.RecordOfflineIssue(tx_id, DOCUMENT, PERMIT_ID, 1, 1, CODE, 3, True, AT, SECRETS))


def test_the_permits_ledger_is_rebuilt_from_its_events_and_slips(journal: Journal) -> None:
    _do(journal, fx.RecordPermit(PERMIT_ID, b"signed permit"))
    _do(journal, fx.RecordPermitCodeFailed(PERMIT_ID))
    _do(journal, fx.RecordPermitActivation(PERMIT_ID, 1, ActivationPath.PHONE_CODE))
    _do(journal, fx.RecordOfflineIssue("a" * 32, DOCUMENT, PERMIT_ID, 1, 1, CODE, 0, False, AT, SECRETS))
    _do(journal, fx.RecordPermitEnd(PERMIT_ID, AT + timedelta(hours=2)))
    _do(journal, fx.RecordPermitEnd(PERMIT_ID, AT + timedelta(hours=1)))
    assert journal.permits() == [(b"signed permit", PermitLedger(frozenset({1}), 1, 1, AT + timedelta(hours=1), 1))]
    _do(journal, fx.RecordPermitStoodDown(PERMIT_ID))
    _do(journal, fx.RecordPermitActivation(PERMIT_ID, 2, ActivationPath.BROADCAST))
    [(_, ledger)] = journal.permits()
    assert ledger.used_activations == frozenset({1, 2}) and ledger.active == 2
    _do(journal, fx.RecordPermitStoodDown(PERMIT_ID))
    assert journal.permits()[0][1].active is None


def test_a_permit_is_kept_once(journal: Journal) -> None:
    _do(journal, fx.RecordPermit(PERMIT_ID, b"signed permit"))
    with pytest.raises(sqlite3.IntegrityError):
        _do(journal, fx.RecordPermit(PERMIT_ID, b"other bytes"))
    assert journal.permits()[0][0] == b"signed permit"


def test_the_offline_slip_is_journaled_with_its_signed_record_and_the_code_sealed_to_the_center(
        journal: Journal) -> None:
    _issue(journal)
    record = journal.transaction("a" * 32)
    assert record is not None and record.stage is TxStage.ELIGIBLE and record.inquiry_code == CODE
    assert VOTER.digits not in record.voter_hash, "the journal keeps the keyed hash only"
    [slip] = journal.offline_slips()
    issue = open_offline_issue(slip.record, public_part(TERMINAL_KEY))
    assert isinstance(issue, OfflineIssue)
    assert (issue.permit_id, issue.terminal, issue.branch, issue.district, issue.offline_code, issue.sequence,
            issue.activation, issue.snapshot_version, issue.snapshot_hit, issue.issued_at) == (
        PERMIT_ID, "T-0101", "B-0101", "D01", CODE, 1, 1, 3, True, AT)
    assert unseal_national_code(issue.sealed_voter, SEALING) == VOTER
    assert VOTER.digits.encode() not in slip.record, "the record carries the national code sealed only"


def test_the_replay_is_in_the_outbox_before_it_is_published_and_carries_the_journaled_record(
        journal: Journal) -> None:
    _issue(journal)
    action = _do(journal, fx.SendOfflineIssue("a" * 32))
    assert isinstance(action, Publish)
    entry = journal.outbox_entry("a" * 32, RequestKind.OFFLINE_ISSUE)
    assert entry == action.entry
    stored = journal.transaction("a" * 32)
    assert stored is not None and stored.stage is TxStage.COMMIT_PENDING
    assert entry is not None
    request = open_request(entry.payload, public_part(TERMINAL_KEY))
    assert not isinstance(request, ProtocolError) and isinstance(request.body, OfflineIssueBody)
    assert request.body.record.encode("ascii") == journal.offline_slips()[0].record


def test_a_replay_of_a_slip_without_a_record_rolls_the_step_back(journal: Journal) -> None:
    with pytest.raises(JournalInconsistentError):
        _do(journal, fx.SendOfflineIssue("f" * 32))
    assert journal.unanswered() == []


def test_the_check_of_a_voter_reads_this_terminals_transactions(journal: Journal) -> None:
    check = fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, SECRETS)
    assert _do(journal, check) == PostBack(OfflineChecked("b" * 32, OfflineVerdict.CLEAR, 0, AT))
    _issue(journal)
    assert _do(journal, check) == PostBack(OfflineChecked("b" * 32, OfflineVerdict.ISSUED_HERE, 0, AT))
    _do(journal, fx.RecordStage("a" * 32, TxStage.VOIDED))
    assert _do(journal, check) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.CLEAR, 0, AT)), "a voided slip does not count"


def _snapshots(*voters: NationalCode, scope: str = "D01", version: int = 40) -> VotedSnapshots:
    held = VotedSnapshots("D01", public_part(CENTER_KEY))
    tags = [voter_tag64(SNAPSHOT_KEY, voter) for voter in voters]
    chunks = build_chunks(tags, scope=scope, chunk_kind=ChunkKind.FULL, version=version, tag_bits=24,
                          committed_until=AT - timedelta(minutes=10), issued_at=AT - timedelta(minutes=9))
    for wire in sign_chunks(chunks, CENTER_KEY):
        assert held.take(wire).refusal is None
    return held


def test_a_voter_the_snapshot_holds_is_a_hit_naming_its_version_and_a_stranger_is_clear(journal: Journal) -> None:
    snapshots = _snapshots(VOTER)
    check = fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, SECRETS)
    assert _do(journal, check, snapshots) == PostBack(OfflineChecked("b" * 32, OfflineVerdict.SNAPSHOT_HIT, 40, AT))
    stranger = Document(DocumentKind.SMART_CARD, NationalCode(complete_national_code("002345678")))
    assert _do(journal, fx.CheckOffline("c" * 32, stranger, PERMIT_ID, SECRETS), snapshots) == PostBack(
        OfflineChecked("c" * 32, OfflineVerdict.CLEAR, 40, AT))


def test_the_snapshot_is_read_with_the_permits_key_and_a_slip_here_comes_first(journal: Journal) -> None:
    snapshots = _snapshots(VOTER, scope="nation", version=7)
    assert _do(journal, fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, PermitSecrets(b"a" * 32, b"x" * 32)), snapshots) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.CLEAR, 7, AT)), "under another key the voter's tag is another"
    _issue(journal)
    assert _do(journal, fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, SECRETS), snapshots) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.ISSUED_HERE, 0, AT))


@pytest.mark.parametrize(("outcome", "stage"), [(OfflineOutcome.ISSUED, TxStage.ISSUED),
                                                (OfflineOutcome.DOUBLE_VOTE, TxStage.ISSUED),
                                                (OfflineOutcome.REJECTED, TxStage.DISPUTED)])
def test_the_centers_record_is_kept_and_closes_the_transaction(journal: Journal, outcome: OfflineOutcome,
                                                               stage: TxStage) -> None:
    _issue(journal)
    assert _do(journal, fx.RecordReconciled("a" * 32, outcome)) is None
    stored = journal.transaction("a" * 32)
    assert stored is not None and stored.stage is stage
    assert journal.offline_slips()[0].outcome is outcome


def test_a_record_of_a_slip_the_journal_does_not_hold_rolls_the_step_back(journal: Journal) -> None:
    with journal.atomic():
        journal.record_offline_slip(SLIP, AT)
    with pytest.raises(JournalInconsistentError), journal.atomic():
        journal.set_offline_outcome(SLIP.tx_id, OfflineOutcome.ISSUED, AT)
        journal_effect(fx.RecordReconciled("c" * 32, OfflineOutcome.ISSUED), journal, SETTINGS, AT)
    assert [slip.outcome for slip in journal.offline_slips()] == [None], "the whole step rolled back"


def _peers_told(*slips: tuple[str, NationalCode, bytes]) -> PeerSlips:
    """The lines of other terminals (name, voter, MAC key), as they came off the broker."""
    peers = PeerSlips("T-0101")
    for sequence, (terminal, voter, key) in enumerate(slips, start=1):
        line = encode_peer_slip(PeerSlip(PERMIT_ID, terminal, sequence, voter_tag64(SNAPSHOT_KEY, voter), AT), key)
        assert peers.take(peer_slip_topic("D01", terminal, PERMIT_ID, sequence), line, lambda _p: None) is None
    return peers


def test_a_voter_another_terminal_of_the_permit_told_of_is_refused_before_the_snapshot(journal: Journal) -> None:
    peers = _peers_told(("T-0102", VOTER, peer_key(SECRETS)))
    check = fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, SECRETS)
    assert _do(journal, check, _snapshots(VOTER), peers) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.ISSUED_AT_BRANCH, 0, AT))
    other_permit = fx.CheckOffline("b" * 32, DOCUMENT, "d" * 32, SECRETS)
    assert _do(journal, other_permit, None, peers) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.CLEAR, 0, AT)), "lines of another permit do not count"


def test_a_line_whose_mac_does_not_hold_never_counts(journal: Journal) -> None:
    peers = _peers_told(("T-0102", VOTER, b"w" * 32))
    assert _do(journal, fx.CheckOffline("b" * 32, DOCUMENT, PERMIT_ID, SECRETS), None, peers) == PostBack(
        OfflineChecked("b" * 32, OfflineVerdict.CLEAR, 0, AT))


def test_the_line_is_journaled_with_the_record_and_told_once_the_slip_is_out(journal: Journal) -> None:
    _issue(journal)
    told = _do(journal, fx.TellPeers("a" * 32))
    assert isinstance(told, TellPeersJob) and (told.permit_id, told.sequence) == (PERMIT_ID, 1)
    parsed = parse_peer_slip(told.line)
    assert not isinstance(parsed, ProtocolError)
    slip, body, mac = parsed
    assert (slip.terminal, slip.tag) == ("T-0101", voter_tag64(SNAPSHOT_KEY, VOTER))
    assert holds(body, mac, peer_key(SECRETS)) and VOTER.digits.encode() not in told.line
    with pytest.raises(JournalInconsistentError):
        _do(journal, fx.TellPeers("f" * 32))
