"""Fuzz targets for every MQTT payload: requests at the center, answers and broadcasts at the terminal, JOSE."""

from __future__ import annotations

import random
import secrets
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.jwk import OKPKey

from center.enrolled import EnrolledTerminal
from center.rate_limit import UNLIMITED
from center.registry import Registry
from center.responder import Dropped, DropReason, Responder
from center.voter_key import registry_key
from firmware_app.flow import texts
from firmware_app.runtime.answers import answer_event
from firmware_app.runtime.bounds import answer_time_problem, extension_problem
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from harness.fuzz import FuzzTarget, mutate
from harness.fuzz.hostile_jose import compact_jwe, compact_jws, hostile_header
from protocol.codec import (
    ProblemKind,
    ProtocolError,
    encode_answer,
    encode_extension,
    encode_offline_issue,
    encode_request,
)
from protocol.inquiry_code import new_inquiry_code
from protocol.messages import (
    Answer,
    AnswerHeader,
    CommitBody,
    DocumentKind,
    Extension,
    MinutesBody,
    OfflineIssueBody,
    Request,
    RequestHeader,
    RequestKind,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
)
from protocol.minutes import CandidateVotes, ElectionCount, Minutes, MinutesFigures
from protocol.national_code import NationalCode, complete_national_code, parse_national_code
from protocol.offline_code import OfflineIssue, offline_code
from protocol.seal import (
    ANSWER_TYPE,
    EXTENSION_TYPE,
    OFFLINE_ISSUE_TYPE,
    REQUEST_TYPE,
    SEAL_ALG,
    SEAL_ENC,
    SIGNATURE_ALG,
    generate_sealing_key,
    generate_signing_key,
    open_answer,
    open_extension,
    public_part,
    seal_national_code,
    sign_answer,
    sign_extension,
    sign_offline_issue,
    sign_request,
    unseal_national_code,
)
from protocol.topics import request_topic

DISTRICT = "D99"
TERMINAL = "T-0001"
BRANCH = "B-0001"
ELECTION_DAY = date(2026, 6, 12)


class _Keys:
    def __init__(self) -> None:
        self.center = generate_signing_key()
        self.sealing = generate_sealing_key()
        self.terminal = generate_signing_key()


def _raise_fault(problem: ProtocolError | Dropped | None) -> None:
    """A parser fault is an escape even when a boundary above it caught it: the count must show it."""
    if isinstance(problem, ProtocolError) and problem.kind is ProblemKind.PARSER_FAULT:
        raise AssertionError(f"parser fault: {problem}")
    if isinstance(problem, Dropped) and problem.reason is DropReason.FAULT:
        raise AssertionError(f"center fault: {problem.detail}")


def _header_of(rng: random.Random, typ: str, key: OKPKey) -> dict[str, Any]:
    return hostile_header(rng, {"alg": SIGNATURE_ALG, "typ": typ, "kid": key.thumbprint()})


def _request(keys: _Keys, body: ReserveBody | CommitBody | MinutesBody | OfflineIssueBody, kind_tx: str) -> Request:
    header = RequestHeader(secrets.token_hex(16), kind_tx, TERMINAL, BRANCH, DISTRICT, datetime.now(UTC))
    return Request(header, body)


def _center_targets(keys: _Keys) -> list[FuzzTarget]:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-center-"))
    registry = Registry(folder / "registry.sqlite", ELECTION_DAY, voter_key=registry_key(keys.sealing))
    responder = Responder(registry, DISTRICT, keys.center, keys.sealing,
                          enrolled={TERMINAL: EnrolledTerminal(TERMINAL, BRANCH, DISTRICT, "E-1",
                                                               public_part(keys.terminal))},
                          rate_limit=UNLIMITED)
    topic = request_topic(DISTRICT, TERMINAL)
    code = parse_national_code(complete_national_code("001234567"))
    assert isinstance(code, NationalCode), code

    def reserve_body(sealed: str) -> ReserveBody:
        return ReserveBody(sealed, DocumentKind.SMART_CARD, False)

    def valid_reserve() -> bytes:
        sealed = seal_national_code(code, public_part(keys.sealing))
        return sign_request(_request(keys, reserve_body(sealed), secrets.token_hex(16)), keys.terminal)

    def make_request(rng: random.Random) -> bytes:
        roll = rng.random()
        if roll < 0.35:
            payload = encode_request(_request(keys, reserve_body("x"), secrets.token_hex(16)))
            return compact_jws(rng, _header_of(rng, REQUEST_TYPE, keys.terminal), mutate(rng, payload), keys.terminal)
        if roll < 0.7:
            jwe_header = hostile_header(rng, {"alg": SEAL_ALG, "enc": SEAL_ENC, "epk": {"kty": "OKP"}})
            request = _request(keys, reserve_body(compact_jwe(rng, jwe_header)[:2000]), secrets.token_hex(16))
            return sign_request(request, keys.terminal)
        return mutate(rng, valid_reserve())

    def feed_request(data: bytes) -> object:
        outcome = responder.handle(topic, data)
        _raise_fault(outcome if isinstance(outcome, Dropped) else None)
        return outcome

    def make_sealed(rng: random.Random) -> bytes:
        header = hostile_header(rng, {"alg": SEAL_ALG, "enc": SEAL_ENC, "epk": {"kty": "OKP", "crv": "X25519"}})
        return compact_jwe(rng, header).encode("ascii")

    def feed_sealed(data: bytes) -> object:
        opened = unseal_national_code(data.decode("ascii"), keys.sealing)
        _raise_fault(opened if isinstance(opened, ProtocolError) else None)
        return opened

    at = datetime(2026, 6, 12, 19, 0, tzinfo=UTC)
    count = ElectionCount("PRES", 500, 400, 5, 95, 400, 10, (CandidateVotes("P1", 200), CandidateVotes("P2", 190)))
    minutes = Minutes("0" * 64, MinutesFigures(("S-1",), (count,)), ("operator", "head"), 400, None, (), at, False)

    def make_minutes(rng: random.Random) -> bytes:
        """A minutes request: its JSON mutated and then signed by the terminal (so it reaches the parser and, if it
        parses, the registry), or the signed request mutated."""
        request = _request(keys, MinutesBody(minutes), secrets.token_hex(16))
        if rng.random() < 0.6:
            return sign_any(mutate(rng, encode_request(request), _JSON), keys.terminal)
        return mutate(rng, sign_request(request, keys.terminal))

    permit_id, activation_key = secrets.token_hex(16), secrets.token_bytes(32)
    offline = [OfflineIssue(permit_id, DISTRICT, BRANCH, TERMINAL, 1,
                            offline_code(activation_key, permit_id, TERMINAL, 1, sequence), sequence,
                            seal_national_code(code, public_part(keys.sealing)), DocumentKind.SMART_CARD,
                            at + timedelta(minutes=sequence), 0, sequence == 2) for sequence in (1, 2, 3)]

    def make_offline_issue(rng: random.Random) -> bytes:
        """A replay of an OFFLINE slip: the record's JSON mutated and then signed by the terminal (so it reaches the
        record's parser and, if it parses, the registry), its signed record mutated inside a signed request, or the
        signed request mutated."""
        issue = rng.choice(offline)
        roll = rng.random()
        if roll < 0.4:
            header = {"alg": SIGNATURE_ALG, "typ": OFFLINE_ISSUE_TYPE, "kid": keys.terminal.thumbprint()}
            record = jws.serialize_compact(header, mutate(rng, encode_offline_issue(issue), _JSON), keys.terminal,
                                           algorithms=[SIGNATURE_ALG])
        elif roll < 0.7:
            record = mutate(rng, sign_offline_issue(issue, keys.terminal), _BASE64).decode("ascii", "replace")
        else:
            request = _request(keys, OfflineIssueBody(sign_offline_issue(issue, keys.terminal).decode("ascii")),
                               secrets.token_hex(16))
            return mutate(rng, sign_request(request, keys.terminal))
        return sign_request(_request(keys, OfflineIssueBody(record), secrets.token_hex(16)), keys.terminal)

    return [FuzzTarget("mqtt.center_request", make_request, feed_request),
            FuzzTarget("mqtt.center_minutes", make_minutes, feed_request),
            FuzzTarget("mqtt.center_offline_issue", make_offline_issue, feed_request),
            FuzzTarget("jose.sealed_voter", make_sealed, feed_sealed)]


_JSON = b'{}[]",:0123456789-.eE truefalsenull\\u'
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def sign_any(payload: bytes, key: OKPKey) -> bytes:
    """Any bytes as a request JWS, truly signed by `key`."""
    header = {"alg": SIGNATURE_ALG, "typ": REQUEST_TYPE, "kid": key.thumbprint()}
    return jws.serialize_compact(header, payload, key, algorithms=[SIGNATURE_ALG]).encode("ascii")


def _settings(keys: _Keys) -> RuntimeSettings:
    opens = datetime(2026, 6, 12, 3, 30, tzinfo=UTC)
    return RuntimeSettings(
        TerminalIdentity(terminal=TERMINAL, branch=BRANCH, district=DISTRICT), False, public_part(keys.center), public_part(keys.sealing),
        keys.terminal, b"k" * 32, "0", "0" * 64, "0" * 64, opens, opens + timedelta(hours=11), {},
    )


def _terminal_targets(keys: _Keys) -> list[FuzzTarget]:
    settings = _settings(keys)
    now = settings.opens_at + timedelta(hours=2)
    duplicate = ReserveAnswer(ReserveOutcome.DUPLICATE, None, None, "B-0002", now - timedelta(hours=1), None)
    eligible = ReserveAnswer(ReserveOutcome.ELIGIBLE, new_inquiry_code(), None, None, None, None)

    def make_answer(rng: random.Random) -> bytes:
        body = rng.choice([duplicate, eligible])
        answer = Answer(RequestKind.RESERVE, AnswerHeader(secrets.token_hex(16), secrets.token_hex(16), TERMINAL,
                                                          now), body)
        payload = encode_answer(answer)
        roll = rng.random()
        if roll < 0.4:
            return compact_jws(rng, _header_of(rng, ANSWER_TYPE, keys.center), payload, keys.center)
        if roll < 0.8:
            return compact_jws(rng, {"alg": SIGNATURE_ALG, "typ": ANSWER_TYPE, "kid": keys.center.thumbprint()},
                               _far_times(rng, mutate(rng, payload, b"0123456789-:TZ.\"{}")), keys.center)
        return mutate(rng, sign_answer(answer, keys.center))

    def feed_answer(data: bytes) -> object:
        opened = open_answer(data, settings.center_signing_key)
        if isinstance(opened, ProtocolError):
            _raise_fault(opened)
            return opened
        _render_times(opened.header.center_time)
        if isinstance(opened.body, ReserveAnswer) and opened.body.first_at is not None:
            _render_times(opened.body.first_at)
        return answer_time_problem(opened, settings, now) or answer_event(opened, now)

    def make_broadcast(rng: random.Random) -> bytes:
        extension = Extension(DISTRICT, settings.closes_at + timedelta(hours=1), now)
        payload = encode_extension(extension)
        roll = rng.random()
        if roll < 0.4:
            return compact_jws(rng, _header_of(rng, EXTENSION_TYPE, keys.center), payload, keys.center)
        if roll < 0.8:
            header = {"alg": SIGNATURE_ALG, "typ": EXTENSION_TYPE, "kid": keys.center.thumbprint()}
            return compact_jws(rng, header, _far_times(rng, payload), keys.center)
        return mutate(rng, sign_extension(replace(extension), keys.center))

    def feed_broadcast(data: bytes) -> object:
        opened = open_extension(data, settings.center_signing_key)
        if isinstance(opened, ProtocolError):
            _raise_fault(opened)
            return opened
        _render_times(opened.closes_at, opened.issued_at)
        return extension_problem(opened, settings, now)

    return [FuzzTarget("mqtt.terminal_answer", make_answer, feed_answer),
            FuzzTarget("mqtt.district_broadcast", make_broadcast, feed_broadcast)]


def _far_times(rng: random.Random, payload: bytes) -> bytes:
    """Replace the years in a payload by far ones (0001, 9999, 1969, 2100...)."""
    year = rng.choice([b"0001", b"9999", b"1969", b"2100", b"2099", b"2019", b"1900", b"0000"])
    return payload.replace(b"2026-", year + b"-", rng.randint(1, 3))


def _render_times(*moments: datetime) -> None:
    """What the operator screen does with a time from the center: the Jalali clock text."""
    for moment in moments:
        texts.clock(moment)


def targets() -> list[FuzzTarget]:
    keys = _Keys()
    return [*_center_targets(keys), *_terminal_targets(keys)]
