"""The eligibility registry: the voter roll and reservations, by the same rules on whichever storage engine holds them."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from center.eligibility import VoterRecord, VoterStatus, ineligible_reason, latest_birth_date_of_age
from center.reconcile import (
    Decision,
    OtherSlip,
    PermitFault,
    ReconcileOutcome,
    ReconcileRecord,
    RegistryAnswer,
    Replayed,
    VoterFree,
    VoterHeldElsewhere,
    VoterIneligible,
    offline_tx_id,
    reconcile,
    replay_of,
)
from center.roll import RollProblem, RollProblemKind, RollRefused
from center.storage import (
    AnsweredRequest,
    Holder,
    MinutesRow,
    NewReservation,
    OfflineSlipRow,
    RegistryStorage,
    Requester,
    Reservation,
    ReservationState,
    RollGate,
    VoterRow,
)
from center.storage.sqlite import SqliteStorage
from center.voted_snapshot import snapshot_key
from protocol.codec import encode_minutes, minutes_hash
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import (
    CommitOutcome,
    DocumentKind,
    IneligibleReason,
    MinutesOutcome,
    RequestKind,
    VoidOutcome,
    VoidReason,
)
from protocol.minutes import Minutes
from protocol.national_code import NationalCode, keyed_hash
from protocol.offline_code import OfflineIssue
from protocol.voted_snapshot import Tags, voter_tag64

__all__ = [
    "ANSWERS_KEPT", "IN_FLIGHT", "MINUTES_KEPT", "AlreadyVoided", "AnsweredRequest", "Clock", "Duplicate", "Ineligible",
    "MinutesReceipt", "MinutesRow", "RefusalReason", "Refused", "Registry", "Requester", "Reservation",
    "ReservationState", "ReserveClaim", "ReserveResult", "Reserved", "VoterInFlight", "utc_now",
]

Clock = Callable[[], datetime]
_CODE_ATTEMPTS = 32
"""Fresh inquiry codes tried before giving up. Codes are unique nationally: by the end of a national day a third
of the code space may be taken (29 million votes, 10^8 codes), so one try in three can meet a taken code."""
ANSWERS_KEPT = 1_000
"""Answers kept per terminal, its newest; the oldest is dropped as each new one is kept. A terminal re-sends only
the requests of its one open transaction and the commits and voids its outbox still holds, a handful, so it never
re-sends a request older than its newest thousand. Were one to come again it would be answered afresh, and
reserves, commits and voids are idempotent per transaction (the same inquiry code, the same outcome); an old
reserve is refused as stale."""


MINUTES_KEPT = 16
"""Different sets of minutes kept per branch: a second one is already a conflict for the district to settle, so
only a terminal that floods reaches this; past it its new minutes are refused (nothing kept)."""


IN_FLIGHT = timedelta(minutes=2)
"""A replayed OFFLINE slip whose voter is held by another terminal's reservation younger than this waits (the
reservation becomes a slip or is voided within seconds): recorded now, a double vote could name a slip that never
came out, and leave the voter free once that reservation is voided. An older reservation is named as it is."""


@dataclass(frozen=True)
class VoterInFlight:
    """The voter of a replayed OFFLINE slip is held by a reservation not yet settled: nothing was recorded; the
    terminal replays again later."""


@dataclass(frozen=True)
class MinutesReceipt:
    """What recording minutes came to: the answer, and the hash of the minutes recorded."""

    outcome: MinutesOutcome
    minutes_hash: str


class RefusalReason(enum.StrEnum):
    """Why the registry refused a request outright; nothing was changed."""

    TX_OF_OTHER_TERMINAL = "tx_of_other_terminal"
    TX_OF_OTHER_VOTER = "tx_of_other_voter"


@dataclass(frozen=True)
class ReserveClaim:
    """A reserve request as the registry sees it: the national code is already unsealed."""

    tx_id: str
    national_code: NationalCode
    document: DocumentKind
    training: bool
    requester: Requester


@dataclass(frozen=True)
class Reserved:
    """This transaction holds the voter's reservation (now, or since an earlier try)."""

    inquiry_code: str


@dataclass(frozen=True)
class Duplicate:
    """Another transaction holds the voter, made at `first_branch`; `first_at` is when its slip was
    issued, or when it was reserved if no slip is confirmed yet."""

    first_branch: str
    first_at: datetime


@dataclass(frozen=True)
class Ineligible:
    reason: IneligibleReason


@dataclass(frozen=True)
class AlreadyVoided:
    """This transaction was voided before; it can no longer reserve anyone."""


@dataclass(frozen=True)
class Refused:
    reason: RefusalReason


ReserveResult = Reserved | Duplicate | Ineligible | AlreadyVoided | Refused


def utc_now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """The registry's rules over one storage session. Open one per thread or process; they may share a database."""

    def __init__(self, storage: Path | RegistryStorage, election_day: date, clock: Clock = utc_now, *,
                 voter_key: bytes, answers_kept: int = ANSWERS_KEPT) -> None:
        """`storage`: a session of an opened database (center.storage.open_database), or the path of an SQLite
        file, which gets a session of its own. `voter_key` (see center.voter_key): national codes are kept only
        as HMACs under it. `answers_kept`: how many of each terminal's answers are kept (ANSWERS_KEPT)."""
        if answers_kept < 1:
            raise ValueError("at least the newest answer of each terminal must be kept")
        self.election_day = election_day
        self._gate = RollGate(VoterStatus.ELIGIBLE.value, latest_birth_date_of_age(election_day))
        self._voter_key = voter_key
        self._snapshot_key = snapshot_key(voter_key, election_day)
        self._clock = clock
        self._answers_kept = answers_kept
        self._storage = SqliteStorage(storage) if isinstance(storage, Path) else storage

    def close(self) -> None:
        self._storage.close()

    def load_roll(self, records: Iterable[VoterRecord]) -> int | RollRefused:
        """Add voters in one transaction; if any is already registered, nothing is added."""
        rows = (VoterRow(self._hash(r.national_code), r.birth_date, r.name, r.status.value) for r in records)
        loaded = self._storage.add_voters(rows)
        if loaded is None:
            return RollRefused((RollProblem(0, RollProblemKind.REPEATED_NATIONAL_CODE, "already registered"),))
        return loaded

    def voter(self, code: NationalCode) -> VoterRecord | None:
        return _record(code, self._storage.voter(self._hash(code)))

    def reserve(self, claim: ReserveClaim) -> ReserveResult:
        """First request for a voter wins; the same transaction again gets the same answer. One statement reads
        the roll entry and reserves if the entry admits it (see RollGate): one round trip to the database."""
        voter = self._hash(claim.national_code)
        for _ in range(_CODE_ATTEMPTS):
            row = NewReservation(claim.tx_id, voter, claim.training, new_inquiry_code(), claim.document.value,
                                 claim.requester, self._clock(), self._tag(claim.national_code))
            found = self._storage.reserve(row, self._gate)
            reason = ineligible_reason(_record(claim.national_code, found.roll), self.election_day)
            if reason is not None:
                return Ineligible(reason)
            if not self._gate.admits(found.roll):
                raise RuntimeError("the roll gate refused a voter the eligibility rule admits")
            if found.holder is not None:
                return _reserve_result(claim, voter, found.holder)
        raise RuntimeError("no free inquiry code after several tries; the code space is exhausted")

    def commit(self, tx_id: str, requester: Requester, inquiry_code: str, reprints: int) -> CommitOutcome:
        """The slip was printed: the reservation becomes an issued vote. Idempotent. Only the terminal that
        reserved (the same name in the same district) can commit it."""
        done = self._storage.commit(tx_id, requester, inquiry_code, reprints, self._clock())
        return CommitOutcome.COMMITTED if done else CommitOutcome.NOT_RESERVED

    def void(self, tx_id: str, requester: Requester, reason: VoidReason) -> VoidOutcome | Refused:
        """The reservation will not become a slip: the voter is free again. Idempotent. Only the terminal that
        reserved (the same name in the same district) can void it."""
        state = self._storage.void(tx_id, requester, reason.value, self._clock())
        if state is None:
            return Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
        if state is ReservationState.COMMITTED:
            return VoidOutcome.ALREADY_COMMITTED
        return VoidOutcome.VOIDED

    def record_poll_event(self, tx_id: str, requester: Requester, kind: RequestKind, detail: str) -> None:
        """Keep an open or close report (its JSON detail); the same transaction again changes nothing."""
        self._storage.add_poll_event(tx_id, requester, kind.value, detail, self._clock())

    def poll_events(self, district: str, terminal: str) -> list[tuple[RequestKind, str]]:
        """A terminal's open and close reports, oldest first, as (kind, JSON detail)."""
        return [(RequestKind(kind), detail) for kind, detail in self._storage.poll_events(district, terminal)]

    def committed_count(self, district: str, branch: str) -> int:
        """The slips the registry holds committed for this district's `branch`, all its terminals, training apart."""
        return self._storage.committed_count(district, branch)

    def record_minutes(self, tx_id: str, requester: Requester, minutes: Minutes, request: bytes
                       ) -> MinutesReceipt | None:
        """Keep a branch's minutes with the signed `request` that carried them; call inside `transaction`.
        Idempotent: the same minutes again (any request, any transaction) add nothing. Other minutes for a branch
        that has some are kept beside them, never instead. The answer depends only on the minutes: RECORDED for
        the branch's first, CONFLICT for any other, however often each comes. Training minutes are kept apart
        (training=True) and never meet the day's. None, with nothing kept, when the branch already holds
        MINUTES_KEPT other sets (a terminal that floods)."""
        digest = minutes_hash(minutes)
        held = self._storage.minutes_hashes(requester.district, requester.branch, minutes.training)
        if digest not in held and len(held) >= MINUTES_KEPT:
            return None
        closed = any(kind == RequestKind.CLOSE.value
                     for kind, _ in self._storage.poll_events(requester.district, requester.terminal))
        self._storage.add_minutes(MinutesRow(requester, tx_id, digest, encode_minutes(minutes).decode("utf-8"),
                                             request, self._clock(), minutes.training, not closed))
        first = not held or held[0] == digest
        return MinutesReceipt(MinutesOutcome.RECORDED if first else MinutesOutcome.CONFLICT, digest)

    def minutes_of(self, district: str, *, training: bool = False) -> list[MinutesRow]:
        """The district's kept minutes, in the order they came (training minutes only when asked for)."""
        return self._storage.minutes_of(district, training)

    def reconcile_offline(self, issue: OfflineIssue, code: NationalCode, signed: bytes,
                          faults: tuple[PermitFault, ...]) -> Decision | VoterInFlight:
        """Record a replayed OFFLINE slip (its verified issue record, the national code unsealed from it, the
        signed record's bytes and where it strays from its permit); call inside `transaction`. The voter is
        reserved and committed under `offline_tx_id`, at the slip's own time, unless another slip holds them: then
        a double vote naming both is kept. Idempotent: the same signed record again gets the same record back and
        changes nothing; other bytes under the same permit and offline code are kept beside it as a conflict."""
        replayed = Replayed(issue, self._hash(code), hashlib.sha256(signed).hexdigest())
        earlier = [_reconcile_record(row) for row in self._storage.offline_slips(issue.permit_id, issue.offline_code)]
        same = next((record for record in earlier if record.digest == replayed.digest), None)
        decision = replay_of(replayed, same if same is not None else next(iter(earlier), None))
        if decision is None:
            answer = self._offline_reserve(issue, replayed.voter, code)
            if isinstance(answer, VoterInFlight):
                return answer
            decision = reconcile(replayed, answer, faults)
        if decision.new:
            self._storage.add_offline_slip(_offline_row(decision.record, offline_tx_id(issue), signed, self._clock()))
        return decision

    def offline_slips_of(self, district: str) -> list[ReconcileRecord]:
        """The district's replayed OFFLINE slips' records, in the order they came (conflicts beside their first)."""
        return [_reconcile_record(row) for row in self._storage.offline_slips_of(district)]

    def _offline_reserve(self, issue: OfflineIssue, voter: str, code: NationalCode) -> RegistryAnswer | VoterInFlight:
        requester = Requester(issue.terminal, issue.branch, issue.district)
        tx_id = offline_tx_id(issue)
        for _ in range(_CODE_ATTEMPTS):
            row = NewReservation(tx_id, voter, False, new_inquiry_code(), issue.document.value, requester,
                                 issue.issued_at, self._tag(code))
            found = self._storage.reserve(row, self._gate)
            reason = ineligible_reason(_record(code, found.roll), self.election_day)
            if reason is not None:
                return VoterIneligible(reason)
            held = found.holder
            if held is None:
                continue
            if held.tx_id != tx_id:
                return self._held_elsewhere(held, requester)
            if held.voter != voter or held.inquiry_code is None or held.state is ReservationState.VOIDED:
                raise RuntimeError("an offline slip's registry transaction holds another voter or was voided")
            if not self._storage.commit(tx_id, requester, held.inquiry_code, 0, issue.issued_at):
                raise RuntimeError("an offline slip's reservation could not be committed")
            return VoterFree()
        raise RuntimeError("no free inquiry code after several tries; the code space is exhausted")

    def _held_elsewhere(self, held: Holder, requester: Requester) -> VoterHeldElsewhere | VoterInFlight:
        """The slip that holds the voter, or a wait: for an unsettled reservation younger than IN_FLIGHT, and for
        one of the replaying terminal itself at any age (its commit or void is in the same outbox as this replay:
        a terminal gives up a reservation before it goes offline for the same voter)."""
        if held.first_at is None:
            raise RuntimeError("a live reservation without a time")
        committed = held.state is ReservationState.COMMITTED
        own = (held.district, held.terminal) == (requester.district, requester.terminal)
        if not committed and (own or self._clock() - held.first_at < IN_FLIGHT):
            return VoterInFlight()
        offline = self._storage.offline_slip_of(held.tx_id)
        if offline is not None:
            return VoterHeldElsewhere(OtherSlip(held.district, held.branch, held.terminal, offline.issued_at,
                                                committed, permit_id=offline.permit_id,
                                                offline_code=offline.offline_code))
        return VoterHeldElsewhere(OtherSlip(held.district, held.branch, held.terminal, held.first_at, committed,
                                            inquiry_code=held.inquiry_code))

    def snapshot_tags(self, district: str | None, after: datetime | None, until: datetime) -> Tags:
        """The 64-bit snapshot tags (protocol.voted_snapshot.voter_tag64, lowest bit cleared) of the voters whose
        slips were committed in (`after`, `until`], of `district` or (None) of the nation: a snapshot's FULL
        version (`after` None) or its DELTA."""
        stored = np.fromiter(self._storage.committed_tags(district, after, until), dtype=np.int64)
        return stored.astype(np.uint64) << np.uint64(1)

    def answered_request(self, request_id: str) -> AnsweredRequest | None:
        """The stored answer to a request id, if the center answered it and still keeps it (see ANSWERS_KEPT)."""
        return self._storage.answered_request(request_id)

    def remember_answer(self, answered: AnsweredRequest) -> None:
        """Keep the answer to a request (inside the transaction that made the change it reports) and count it
        for its terminal (district and name); that terminal's answers older than its newest `answers_kept` are
        dropped."""
        self._storage.remember_answer(answered, self._clock(), self._answers_kept)

    def answered_count(self, district: str, terminal: str) -> int:
        """How many answers the centers have given this district's `terminal` (one row read, not a count of kept
        answers)."""
        return self._storage.answered_count(district, terminal)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several statements as one: a request's check, its change and its kept answer."""
        with self._storage.transaction():
            yield

    def reservations(self) -> list[Reservation]:
        return self._storage.reservations()

    def voter_of(self, code: NationalCode) -> str:
        """The keyed hash the registry keeps for this code (to find a voter's reservations)."""
        return self._hash(code)

    def _tag(self, code: NationalCode) -> int:
        return voter_tag64(self._snapshot_key, code) >> 1

    def _hash(self, code: NationalCode) -> str:
        return keyed_hash(self._voter_key, code)


def _record(code: NationalCode, row: VoterRow | None) -> VoterRecord | None:
    return None if row is None else VoterRecord(code, row.birth_date, row.name, VoterStatus(row.status))


def _offline_row(record: ReconcileRecord, tx_id: str, signed: bytes, at: datetime) -> OfflineSlipRow:
    other = None if record.other is None else json.dumps(_other_json(record.other), sort_keys=True)
    return OfflineSlipRow(record.permit_id, record.offline_code, record.digest, record.outcome.value, tx_id,
                          Requester(record.terminal, record.branch, record.district), record.issued_at, record.voter,
                          ",".join(fault.value for fault in record.faults), other,
                          None if record.ineligible is None else record.ineligible.value, signed, at)


def _reconcile_record(row: OfflineSlipRow) -> ReconcileRecord:
    who = row.requester
    other = None if row.other is None else _other_of(json.loads(row.other))
    return ReconcileRecord(ReconcileOutcome(row.outcome), row.permit_id, row.offline_code, who.district, who.branch,
                           who.terminal, row.issued_at, row.voter, row.digest,
                           tuple(PermitFault(fault) for fault in row.faults.split(",") if fault), other,
                           None if row.ineligible is None else IneligibleReason(row.ineligible))


def _other_json(other: OtherSlip) -> dict[str, object]:
    return {"district": other.district, "branch": other.branch, "terminal": other.terminal,
            "at": other.at.isoformat(), "committed": other.committed, "inquiry_code": other.inquiry_code,
            "permit_id": other.permit_id, "offline_code": other.offline_code}


def _other_of(data: dict[str, object]) -> OtherSlip:
    def text(key: str) -> str | None:
        value = data[key]
        return None if value is None else str(value)

    return OtherSlip(str(data["district"]), str(data["branch"]), str(data["terminal"]),
                     datetime.fromisoformat(str(data["at"])), bool(data["committed"]), text("inquiry_code"),
                     text("permit_id"), text("offline_code"))


def _reserve_result(claim: ReserveClaim, voter: str, held: Holder) -> ReserveResult:
    if held.tx_id != claim.tx_id:
        if held.first_at is None:
            raise RuntimeError("a live reservation without a time")
        return Duplicate(held.branch, held.first_at)
    if (held.district, held.terminal) != (claim.requester.district, claim.requester.terminal):
        return Refused(RefusalReason.TX_OF_OTHER_TERMINAL)
    if held.state is ReservationState.VOIDED and held.voter in (None, voter):
        return AlreadyVoided()
    if held.voter != voter or held.inquiry_code is None:
        return Refused(RefusalReason.TX_OF_OTHER_VOTER)
    return Reserved(held.inquiry_code)
