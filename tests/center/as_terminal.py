"""Building protocol requests as a terminal would, for the center tests."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from joserfc.jwk import OKPKey

from center.registry import Requester
from protocol.codec import encode_request
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
from protocol.seal import seal_national_code
from protocol.topics import request_topic


def new_id() -> str:
    return secrets.token_hex(16)


def request(who: Requester, body: RequestBody, tx_id: str | None = None) -> Request:
    header = RequestHeader(new_id(), tx_id or new_id(), who.terminal, who.branch, who.district, datetime.now(UTC))
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


def payload(message: Request) -> bytes:
    return encode_request(message)
