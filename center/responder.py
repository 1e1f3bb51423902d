"""The center's answer to one request: check its signature, address and age, ask the registry, sign the answer."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import assert_never

from joserfc.jwk import OKPKey

from center.registry import (
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
    utc_now,
)
from protocol.codec import ProblemKind, ProtocolError
from protocol.messages import (
    AckAnswer,
    AckOutcome,
    Answer,
    AnswerBody,
    AnswerHeader,
    CloseBody,
    CommitAnswer,
    CommitBody,
    OpenBody,
    Request,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
    VoidAnswer,
    VoidBody,
)
from protocol.seal import open_answer, open_request, public_part, sign_answer, unseal_national_code
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


REQUEST_WINDOW = timedelta(minutes=5)


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
    """Health of one responder: how many requests it answered and dropped."""

    answered: int
    dropped: int


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
        terminal_keys: Mapping[str, OKPKey],
        window: timedelta = REQUEST_WINDOW,
    ) -> None:
        """`terminal_keys` are the enrolled terminals' public signing keys: a request is accepted only if it
        is signed by the key of the terminal its topic names. A request id once answered is bound to its
        signed bytes: the same bytes get the stored answer at any age, other bytes are refused.

        A new request sent further than `window` from the center's time: a reserve is refused (only a
        reserve allocates, and a withheld one replayed later would reserve a voter the terminal gave up
        on); an opening is acknowledged unrecorded, so the terminal sees from the center's time in the
        answer that its clock is off and refuses to open; commits, voids and closing reports are answered,
        because they settle the terminal's own transactions (idempotent per transaction, so a replay
        changes nothing) and must get through after an outage of any length."""
        self._registry = registry
        self._district = district
        self._signing_key = signing_key
        self._verify_key = public_part(signing_key)
        self._sealing_key = sealing_key
        self._clock = clock
        self._terminal_keys = terminal_keys
        self._window = window
        self._answered = 0
        self._dropped = 0

    def status(self) -> ResponderStatus:
        return ResponderStatus(self._answered, self._dropped)

    def handle(self, topic: str, payload: bytes) -> Reply | Dropped:
        """Answer one request that arrived on `topic`; the terminal is the one the topic names."""
        outcome = self._handle(topic, payload)
        if isinstance(outcome, Reply):
            self._answered += 1
        else:
            self._dropped += 1
        return outcome

    def _handle(self, topic: str, payload: bytes) -> Reply | Dropped:
        address = terminal_of_request_topic(topic)
        if address is None:
            return Dropped(DropReason.NOT_A_REQUEST_TOPIC, topic[:80])
        district, terminal = address
        if district != self._district:
            return Dropped(DropReason.OTHER_DISTRICT, district)
        terminal_key = self._terminal_keys.get(terminal)
        if terminal_key is None:
            return Dropped(DropReason.UNKNOWN_TERMINAL, terminal)
        request = open_request(payload, terminal_key)
        if isinstance(request, ProtocolError):
            reason = DropReason.BAD_SIGNATURE if request.kind is ProblemKind.BAD_SIGNATURE else DropReason.MALFORMED
            return Dropped(reason, str(request))
        header = request.header
        if header.terminal != terminal or header.district != district:
            return Dropped(DropReason.MISADDRESSED, f"header names {header.district}/{header.terminal}")
        digest = hashlib.sha256(payload).hexdigest()
        with self._registry.transaction():
            earlier = self._registry.answered_request(header.request_id)
            if earlier is not None:
                return self._again(earlier, terminal, digest)
            now = self._clock()
            stale = abs(header.sent_at - now) > self._window
            if stale and request.kind is RequestKind.RESERVE:
                off = (header.sent_at - now).total_seconds()
                return Dropped(DropReason.STALE, f"sent {off:+.0f} s from the center's time")
            body: AnswerBody | Dropped = AckAnswer(AckOutcome.ACK)
            if not (stale and request.kind is RequestKind.OPEN):
                body = self._answer_body(request, Requester(terminal, header.branch, district))
            if isinstance(body, Dropped):
                return body
            answer = Answer(request.kind, AnswerHeader(header.request_id, header.tx_id, terminal, now), body)
            signed = sign_answer(answer, self._signing_key)
            self._registry.remember_answer(AnsweredRequest(header.request_id, terminal, digest, signed))
        return Reply(answer_topic(district, terminal), signed, answer)

    def _again(self, earlier: AnsweredRequest, terminal: str, digest: str) -> Reply | Dropped:
        """A request id seen before: the same signed bytes get the same answer; anything else is refused."""
        if earlier.terminal != terminal or earlier.request_digest != digest:
            return Dropped(DropReason.REQUEST_ID_REUSED, earlier.request_id)
        answer = open_answer(earlier.answer, self._verify_key)
        if isinstance(answer, ProtocolError):
            raise RuntimeError(f"the stored answer to {earlier.request_id} does not verify: {answer}")
        return Reply(answer_topic(self._district, terminal), earlier.answer, answer)

    def _answer_body(self, request: Request, requester: Requester) -> AnswerBody | Dropped:
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
            case OpenBody() | CloseBody() as body:
                detail = json.dumps(asdict(body), sort_keys=True)
                self._registry.record_poll_event(tx_id, requester, request.kind, detail)
                return AckAnswer(AckOutcome.ACK)
            case _ as unreachable:
                assert_never(unreachable)

    def _reserve(self, tx_id: str, body: ReserveBody, requester: Requester) -> ReserveAnswer:
        code = unseal_national_code(body.sealed_voter, self._sealing_key)
        if isinstance(code, ProtocolError):
            return _reserve_answer(ReserveOutcome.REJECTED, detail=code.kind.value)
        claim = ReserveClaim(tx_id, code, body.document, body.training, requester)
        return _to_answer(self._registry.reserve(claim))


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
