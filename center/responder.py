"""The center's answer to one request: check its signature, address and age, ask the registry, sign the answer."""

from __future__ import annotations

import enum
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import assert_never

from joserfc.jwk import OKPKey

from center.election_bundle import DistrictBundle, bundle_misfit
from center.enrolled import EnrolledTerminal
from center.permit_book import PermitBook
from center.rate_limit import RateLimit, TokenBuckets
from center.reconcile import Decision, ReconcileOutcome, permit_faults
from center.registry import (
    MINUTES_KEPT,
    AlreadyVoided,
    AnsweredRequest,
    Clock,
    Duplicate,
    Ineligible,
    Refused,
    Registry,
    Requester,
    ReserveClaim,
    Reserved,
    ReserveResult,
    VoterInFlight,
    utc_now,
)
from center.storage import RegistryUnavailableError
from center.worker_cpu import Stage, StageClock, StageTotals
from protocol.codec import ProblemKind, ProtocolError, escaped
from protocol.faults import fault_place
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    AnswerBody,
    AnswerHeader,
    CloseAnswer,
    CloseBody,
    CommitAnswer,
    CommitBody,
    MinutesAnswer,
    MinutesBody,
    MinutesOutcome,
    OfflineIssueAnswer,
    OfflineIssueBody,
    OfflineOutcome,
    OpenBody,
    Request,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidAnswer,
    VoidBody,
)
from protocol.minutes import Minutes
from protocol.national_code import NationalCode
from protocol.offline_code import issue_problem
from protocol.seal import (
    open_answer,
    open_offline_issue,
    open_request,
    public_part,
    sign_answer,
    unseal_national_code,
)
from protocol.topics import answer_topic, terminal_of_request_topic


class DropReason(enum.StrEnum):
    """Why a request got no answer at all (nothing was changed)."""

    NOT_A_REQUEST_TOPIC = "not_a_request_topic"
    MALFORMED = "malformed"
    OTHER_DISTRICT = "other_district"
    MISADDRESSED = "misaddressed"
    OTHER_TERMINALS_TX = "other_terminals_tx"
    UNKNOWN_TERMINAL = "unknown_terminal"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    REQUEST_ID_REUSED = "request_id_reused"
    WRONG_BRANCH = "wrong_branch"
    """Signed by the terminal, but its header names another branch or district than its enrolment."""
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    IN_FLIGHT = "in_flight"
    """A replayed OFFLINE slip's voter is held by a reservation not yet settled: asked again later, it is recorded."""
    FAULT = "fault"
    """Handling the request raised: a bug. Nothing was changed (the transaction rolled back); alarmed."""


MAX_BRANCH_COMMITTED = 100_000
"""The most a closing answer can say (CloseAnswer's bound, as for every figure of the minutes)."""
REQUEST_WINDOW = timedelta(minutes=5)
ANSWER_QUOTA = 50_000
"""Answers given to one terminal: a busy terminal sends about three requests per voter and a branch sees a few
thousand voters, so only a terminal that floods reaches this; its new requests are then refused, which bounds the
rows one terminal can add to the registry. (The answers themselves are kept only for the newest few, see
center.registry.ANSWERS_KEPT.)"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """A signed answer and where to publish it."""

    topic: str
    payload: bytes
    answer: Answer


@dataclass(frozen=True)
class Dropped:
    """A request left unanswered. `detail` names the problem, never the payload, so it is safe to log."""

    reason: DropReason
    detail: str


@dataclass(frozen=True)
class ResponderStatus:
    """Health of one responder: how many requests it answered and dropped, and how many of the drops were
    faults (bugs: the handling itself raised, or a parser failed on its input)."""

    answered: int
    dropped: int
    faults: int = 0
    cpu: StageTotals = field(default_factory=StageTotals.empty)
    """This responder's CPU time by request kind and stage (center.worker_cpu)."""


class Responder:
    """Turns request payloads into signed answers; one per registry connection (per worker)."""

    def __init__(
        self,
        registry: Registry,
        district: str,
        signing_key: OKPKey,
        sealing_key: OKPKey,
        clock: Clock = utc_now,
        *,
        enrolled: Mapping[str, EnrolledTerminal],
        window: timedelta = REQUEST_WINDOW,
        rate_limit: RateLimit | None = None,
        answer_quota: int = ANSWER_QUOTA,
        bundle: DistrictBundle | None = None,
        permits: PermitBook | None = None,
    ) -> None:
        """`enrolled` are the terminals as enrolment recorded them: a request is accepted only if it is
        signed by the key of the terminal its topic names and its header names the branch and district that
        terminal was enrolled for. A request id once answered is bound to its
        signed bytes: the same bytes get the stored answer at any age, other bytes are refused.

        A new request sent further than `window` from the center's time: a reserve is refused (only a
        reserve allocates, and a withheld one replayed later would reserve a voter the terminal gave up
        on); an opening is acknowledged unrecorded, so the terminal sees from the center's time in the
        answer that its clock is off and refuses to open; commits, voids and closing reports are answered,
        because they settle the terminal's own transactions (idempotent per transaction, so a replay
        changes nothing) and must get through after an outage of any length. So are minutes, for the same reason;
        `bundle`, the district's election bundle, if known, is what they are expected to fit. Replayed OFFLINE slips
        are answered at any age too; `permits`, the district's permits on file, is what they are checked against (none:
        every replayed slip is recorded with the fault `unknown_permit`)."""
        self._registry = registry
        self._district = district
        self._signing_key = signing_key
        self._verify_key = public_part(signing_key)
        self._sealing_key = sealing_key
        self._clock = clock
        self._enrolled = enrolled
        self._window = window
        self._buckets = TokenBuckets(rate_limit or RateLimit())
        self._answer_quota = answer_quota
        self._bundle = bundle
        self._permits = permits
        self._answered = 0
        self._dropped = 0
        self._faults = 0
        self._cpu = StageClock()
        self._kind: RequestKind | None = None

    def status(self) -> ResponderStatus:
        return ResponderStatus(self._answered, self._dropped, self._faults, self._cpu.snapshot())

    def handle(self, topic: str, payload: bytes) -> Reply | Dropped:
        """Answer one request that arrived on `topic`; the terminal is the one the topic names.

        The one boundary for bytes from the network at the center: whatever the topic and payload hold,
        the outcome is a Reply or a typed Dropped, never an exception, except RegistryUnavailableError
        (nothing was changed: the worker leaves the request unanswered so the terminal retries)."""
        self._cpu.begin()
        self._kind = None
        try:
            outcome = self._handle(topic, payload)
        except RegistryUnavailableError:
            raise
        except Exception as exc:  # any fault on outside input is a refusal and an alarm
            outcome = Dropped(DropReason.FAULT, fault_place(exc))
        finally:
            self._cpu.end(self._kind)
        if isinstance(outcome, Reply):
            self._answered += 1
        else:
            self._dropped += 1
            if outcome.reason is DropReason.FAULT:
                self._fault(outcome.detail)
        return outcome

    def _fault(self, detail: str) -> None:
        self._faults += 1
        log.error("ALARM: a request raised in the center (%s); dropped, nothing changed", detail)

    def _handle(self, topic: str, payload: bytes) -> Reply | Dropped:
        address = terminal_of_request_topic(topic)
        if address is None:
            return Dropped(DropReason.NOT_A_REQUEST_TOPIC, escaped(topic, 80))
        district, terminal = address
        if not self._buckets.allow(terminal):
            return Dropped(DropReason.RATE_LIMITED, escaped(terminal))
        if district != self._district:
            return Dropped(DropReason.OTHER_DISTRICT, escaped(district))
        enrolment = self._enrolled.get(terminal)
        if enrolment is None:
            return Dropped(DropReason.UNKNOWN_TERMINAL, escaped(terminal))
        started = self._cpu.now()
        request = open_request(payload, enrolment.signing_key)
        self._cpu.add(Stage.VERIFY, started)
        if isinstance(request, ProtocolError):
            reason = {ProblemKind.BAD_SIGNATURE: DropReason.BAD_SIGNATURE,
                      ProblemKind.PARSER_FAULT: DropReason.FAULT}.get(request.kind, DropReason.MALFORMED)
            return Dropped(reason, str(request))
        header = request.header
        if header.terminal != terminal or header.district != district:
            return Dropped(DropReason.MISADDRESSED, f"header names {header.district}/{header.terminal}")
        if header.branch != enrolment.branch or header.district != enrolment.district:
            return Dropped(DropReason.WRONG_BRANCH, f"header names {header.district}/{header.branch}, enrolled for "
                                                    f"{enrolment.district}/{enrolment.branch}")
        self._kind = request.kind
        digest = hashlib.sha256(payload).hexdigest()
        started = self._cpu.now()
        try:
            return self._transact(request, enrolment, digest, payload)
        finally:
            self._cpu.add(Stage.REGISTRY, started)

    def _transact(self, request: Request, enrolment: EnrolledTerminal, digest: str, payload: bytes
                  ) -> Reply | Dropped:
        """The registry's part, one transaction: the kept answer, the quota, the change, keeping the answer."""
        header = request.header
        district, terminal = enrolment.district, enrolment.terminal
        with self._registry.transaction():
            earlier = self._registry.answered_request(header.request_id)
            if earlier is not None:
                return self._again(earlier, district, terminal, digest)
            if self._registry.answered_count(district, terminal) >= self._answer_quota:
                return Dropped(DropReason.QUOTA_EXCEEDED, f"{self._answer_quota} answers kept")
            now = self._clock()
            stale = abs(header.sent_at - now) > self._window
            if stale and request.kind is RequestKind.RESERVE:
                off = (header.sent_at - now).total_seconds()
                return Dropped(DropReason.STALE, f"sent {off:+.0f} s from the center's time")
            body: AnswerBody | Dropped = AckAnswer(AckOutcome.ACK)
            if not (stale and request.kind is RequestKind.OPEN):
                body = self._answer_body(request, Requester(terminal, header.branch, district), payload, enrolment)
            if isinstance(body, Dropped):
                return body
            answer = Answer(request.kind, AnswerHeader(header.request_id, header.tx_id, terminal, now), body)
            started = self._cpu.now()
            signed = sign_answer(answer, self._signing_key)
            self._cpu.add(Stage.SIGN, started)
            self._registry.remember_answer(AnsweredRequest(header.request_id, district, terminal, digest, signed))
        return Reply(answer_topic(district, terminal), signed, answer)

    def _again(self, earlier: AnsweredRequest, district: str, terminal: str, digest: str) -> Reply | Dropped:
        """A request id seen before: the same signed bytes from the same terminal (district and name) get the same
        answer; anything else is refused."""
        if (earlier.district, earlier.terminal, earlier.request_digest) != (district, terminal, digest):
            return Dropped(DropReason.REQUEST_ID_REUSED, earlier.request_id)
        answer = open_answer(earlier.answer, self._verify_key)
        if isinstance(answer, ProtocolError):
            raise RuntimeError(f"the stored answer to {earlier.request_id} does not verify: {answer}")
        return Reply(answer_topic(self._district, terminal), earlier.answer, answer)

    def _answer_body(self, request: Request, requester: Requester, payload: bytes, enrolment: EnrolledTerminal
                     ) -> AnswerBody | Dropped:
        tx_id = request.header.tx_id
        match request.body:
            case ReserveBody() as body:
                return self._reserve(tx_id, body, requester)
            case CommitBody(inquiry_code=code, reprints=reprints):
                return CommitAnswer(self._registry.commit(tx_id, requester, code, reprints))
            case VoidBody(reason=reason):
                voided = self._registry.void(tx_id, requester, reason)
                if isinstance(voided, Refused):
                    return Dropped(DropReason.OTHER_TERMINALS_TX, voided.reason.value)
                return VoidAnswer(voided)
            case OpenBody() as body:
                self._registry.record_poll_event(tx_id, requester, request.kind, _detail(body))
                return AckAnswer(AckOutcome.ACK)
            case CloseBody() as body:
                self._registry.record_poll_event(tx_id, requester, request.kind, _detail(body))
                committed = self._registry.committed_count(requester.district, requester.branch)
                return CloseAnswer(AckOutcome.ACK, min(committed, MAX_BRANCH_COMMITTED))
            case MinutesBody(minutes=minutes):
                return self._minutes(tx_id, minutes, requester, payload)
            case OfflineIssueBody(record=record):
                return self._offline_issue(record.encode("ascii"), requester, enrolment)
            case _ as unreachable:
                assert_never(unreachable)

    def _minutes(self, tx_id: str, minutes: Minutes, requester: Requester, payload: bytes
                 ) -> MinutesAnswer | Dropped:
        """Recorded whatever their checks say (the law lets a branch record what it found); whether they fit the
        district's election bundle is only noted here and flagged at aggregation (center.aggregate)."""
        if self._bundle is not None:
            misfit = bundle_misfit(minutes, self._bundle)
            if misfit is not None:
                log.warning("minutes of %s/%s do not fit the district's election bundle (%s); recorded, flagged",
                            requester.branch, requester.terminal, misfit)
        receipt = self._registry.record_minutes(tx_id, requester, minutes, payload)
        if receipt is None:
            return Dropped(DropReason.QUOTA_EXCEEDED, f"{MINUTES_KEPT} sets of minutes kept for the branch")
        if receipt.outcome is MinutesOutcome.CONFLICT:
            log.warning("minutes of %s/%s differ from the branch's first (%s): kept beside them, a conflict",
                        requester.branch, requester.terminal, receipt.minutes_hash)
        return MinutesAnswer(receipt.outcome, receipt.minutes_hash)

    def _offline_issue(self, signed: bytes, requester: Requester, enrolment: EnrolledTerminal
                       ) -> OfflineIssueAnswer | Dropped:
        """Reconcile one replayed OFFLINE slip (center.reconcile). A record that does not hold is answered REJECTED
        and nothing is kept: it is no evidence of a slip. One that holds is recorded whatever its permit says
        (its faults are kept with it): the slip was issued, so its voter must stay taken."""
        issue = open_offline_issue(signed, enrolment.signing_key)
        if isinstance(issue, ProtocolError):
            return _rejected(None, f"record: {issue}")
        if (issue.district, issue.branch, issue.terminal) != (requester.district, requester.branch,
                                                              requester.terminal):
            return _rejected(issue.offline_code, "record: of another terminal")
        problem = issue_problem(issue)
        if problem is not None:
            return _rejected(issue.offline_code, f"record: offline code {problem.value}")
        code = self._unseal(issue.sealed_voter)
        if isinstance(code, ProtocolError):
            return _rejected(issue.offline_code, f"sealed voter: {code.kind.value}")
        on_file = None if self._permits is None else self._permits.get(issue.permit_id)
        faults = permit_faults(issue, None if on_file is None else on_file.permit,
                               None if on_file is None else on_file.secrets,
                               None if on_file is None else on_file.ended_at)
        decision = self._registry.reconcile_offline(issue, code, signed, faults)
        if isinstance(decision, VoterInFlight):
            return Dropped(DropReason.IN_FLIGHT, f"offline slip {issue.offline_code}")
        _log_reconciled(decision)
        return OfflineIssueAnswer(_OFFLINE_OUTCOMES[decision.record.outcome], issue.offline_code, None)

    def _reserve(self, tx_id: str, body: ReserveBody, requester: Requester) -> ReserveAnswer:
        code = self._unseal(body.sealed_voter)
        if isinstance(code, ProtocolError):
            return _reserve_answer(ReserveOutcome.REJECTED, detail=code.kind.value)
        claim = ReserveClaim(tx_id, code, body.document, body.training, requester)
        return _to_answer(self._registry.reserve(claim))

    def _unseal(self, sealed: str) -> NationalCode | ProtocolError:
        """A sealed national code opened, its CPU counted; a parser's fault on it is also alarmed."""
        started = self._cpu.now()
        code = unseal_national_code(sealed, self._sealing_key)
        self._cpu.add(Stage.UNSEAL, started)
        if isinstance(code, ProtocolError) and code.kind is ProblemKind.PARSER_FAULT:
            self._fault(str(code))
        return code


_OFFLINE_OUTCOMES = {
    ReconcileOutcome.ISSUED: OfflineOutcome.ISSUED,
    ReconcileOutcome.DOUBLE_VOTE: OfflineOutcome.DOUBLE_VOTE,
    ReconcileOutcome.INELIGIBLE: OfflineOutcome.INELIGIBLE,
    ReconcileOutcome.CONFLICT: OfflineOutcome.CONFLICT,
}


def _rejected(offline_code: str | None, detail: str) -> OfflineIssueAnswer:
    log.error("ALARM: a replayed offline slip's record does not hold (%s); rejected, nothing recorded", detail)
    return OfflineIssueAnswer(OfflineOutcome.REJECTED, offline_code, escaped(detail, 160))


def _log_reconciled(decision: Decision) -> None:
    record = decision.record
    if not decision.new:
        return
    faults = ",".join(fault.value for fault in record.faults) or "none"
    if record.outcome is ReconcileOutcome.ISSUED:
        log.info("offline slip %s of %s/%s reconciled: issued (permit faults: %s)", record.offline_code,
                 record.branch, record.terminal, faults)
    else:
        log.warning("offline slip %s of %s/%s reconciled: %s (permit faults: %s)", record.offline_code,
                    record.branch, record.terminal, record.outcome.value, faults)


def _detail(body: OpenBody | CloseBody) -> str:
    """An opening's or closing's report as the registry keeps it (center.results reads the closing's counts)."""
    return json.dumps(asdict(body), sort_keys=True)


def _to_answer(result: ReserveResult) -> ReserveAnswer:
    match result:
        case Reserved(inquiry_code=code):
            return _reserve_answer(ReserveOutcome.ELIGIBLE, inquiry_code=code)
        case Duplicate(first_branch=branch, first_at=at):
            return ReserveAnswer(ReserveOutcome.DUPLICATE, None, None, branch, at, None)
        case Ineligible(reason=reason):
            return ReserveAnswer(ReserveOutcome.INELIGIBLE, None, reason, None, None, None)
        case AlreadyVoided():
            return _reserve_answer(ReserveOutcome.VOIDED)
        case Refused(reason=reason):
            return _reserve_answer(ReserveOutcome.REJECTED, detail=reason.value)
        case _ as unreachable:
            assert_never(unreachable)


def _reserve_answer(
    outcome: ReserveOutcome, *, inquiry_code: str | None = None, detail: str | None = None
) -> ReserveAnswer:
    return ReserveAnswer(outcome, inquiry_code, None, None, None, detail)

