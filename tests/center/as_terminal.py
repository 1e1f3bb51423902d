"""Building protocol requests as a terminal would (signed with its own key), for the center tests."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jws
from joserfc.jwk import OKPKey

from center.enrolled import EnrolledTerminal, write_record
from center.registry import Requester
from protocol.messages import (
    CloseBody,
    CloseCounts,
    CommitBody,
    DocumentKind,
    OpenBody,
    Request,
    RequestBody,
    RequestHeader,
    ReserveBody,
    VoidBody,
    VoidReason,
)
from protocol.national_code import NationalCode
from protocol.seal import (
    REQUEST_TYPE,
    SIGNATURE_ALG,
    generate_sealing_key,
    generate_signing_key,
    public_part,
    seal_national_code,
    sign_request,
)
from protocol.topics import request_topic


def new_id() -> str:
    return secrets.token_hex(16)


@functools.cache
def signing_key_of(terminal: str) -> OKPKey:
    """Each test terminal's own signing key, made once per session."""
    return generate_signing_key()


@functools.cache
def permit_key_of(terminal: str) -> OKPKey:
    """Each test terminal's own X25519 permit key, made once per session."""
    return generate_sealing_key()


ELECTION_ID = "E-test"


def enrolment(who: Requester) -> EnrolledTerminal:
    """What enrolment records of a test terminal: its public signing and permit keys, its branch and district."""
    return EnrolledTerminal(who.terminal, who.branch, who.district, ELECTION_ID, public_part(signing_key_of(who.terminal)),
                            public_part(permit_key_of(who.terminal)))


def enrolled(terminals: Iterable[Requester]) -> dict[str, EnrolledTerminal]:
    """What the center is given: these terminals' enrolment records."""
    return {who.terminal: enrolment(who) for who in terminals}


def enrol(ca_folder: Path, who: Requester) -> None:
    """Record a terminal where enrolment keeps it, for a center started from its config."""
    ca_folder.mkdir(parents=True, exist_ok=True)
    write_record(ca_folder, enrolment(who))


def request(who: Requester, body: RequestBody, tx_id: str | None = None, sent_at: datetime | None = None) -> Request:
    header = RequestHeader(new_id(), tx_id or new_id(), who.terminal, who.branch, who.district,
                           sent_at or datetime.now(UTC))
    return Request(header, body)


def reserve(who: Requester, voter: NationalCode, sealing_public: OKPKey, tx_id: str | None = None) -> Request:
    body = ReserveBody(seal_national_code(voter, sealing_public), DocumentKind.SMART_CARD, False)
    return request(who, body, tx_id)


def commit(who: Requester, tx_id: str, inquiry_code: str, reprints: int = 0) -> Request:
    return request(who, CommitBody(inquiry_code, reprints), tx_id)


def void(who: Requester, tx_id: str, reason: VoidReason = VoidReason.PRINT_FAILED) -> Request:
    return request(who, VoidBody(reason), tx_id)


def open_polls(who: Requester) -> Request:
    return request(who, OpenBody("kiosk 0.1.0", "ab" * 32))


def close_polls(who: Requester, issued: int) -> Request:
    return request(who, CloseBody(CloseCounts(issued, 0, 0, 0, 0, 0, 0, 0)))


def topic_of(who: Requester) -> str:
    return request_topic(who.district, who.terminal)


def signed_bytes(data: bytes, key: OKPKey, typ: str = REQUEST_TYPE) -> bytes:
    """Any bytes signed as a request (or as another `typ`), for refusal tests."""
    header = {"alg": SIGNATURE_ALG, "typ": typ, "kid": key.thumbprint()}
    return jws.serialize_compact(header, data, key, algorithms=[SIGNATURE_ALG]).encode("ascii")


def payload(message: Request, key: OKPKey | None = None) -> bytes:
    """The request signed by its terminal's key, or by `key` (a forger's, another terminal's)."""
    return sign_request(message, key or signing_key_of(message.header.terminal))
