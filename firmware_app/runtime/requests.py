"""Building the terminal's requests: fresh ids, signed by the terminal, national code sealed, keyed voter hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from firmware_app.runtime.settings import RuntimeSettings
from firmware_app.store.journal import OutboxEntry
from protocol.messages import Request, RequestBody, RequestHeader
from protocol.seal import sign_request


def new_id() -> str:
    return uuid.uuid4().hex


def build(settings: RuntimeSettings, tx_id: str, body: RequestBody, at: datetime) -> OutboxEntry:
    """A new request, signed; the outbox keeps the signed bytes, so every resend is byte-identical."""
    identity = settings.identity
    header = RequestHeader(
        request_id=new_id(), tx_id=tx_id, terminal=identity.terminal, branch=identity.branch,
        district=identity.district, sent_at=at,
    )
    request = Request(header, body)
    return OutboxEntry(header.request_id, tx_id, request.kind, sign_request(request, settings.terminal_signing_key))
