"""The smart-card DocumentReader: read the chip through the HAL, authenticate it, hand back a Document."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import assert_never

from firmware_app.identity.authentication import authenticate
from firmware_app.identity.document import CardEvent, Document, DocumentProblem, DocumentRefusal
from firmware_app.identity.nid_v1 import CHALLENGE_LENGTH, NidV1Profile
from firmware_app.identity.profile import CardContent, CardProfile, WrongApplication
from firmware_app.identity.refusals import refuse
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import (
    CardReader,
    CardReaderStatus,
    LinkError,
    LinkProblem,
    ReadBudget,
    ReaderEvent,
    ReadLimits,
)


def card_event(event: ReaderEvent) -> CardEvent | None:
    """The flow's view of a reader event; service changes travel as reader changes."""
    match event:
        case ReaderEvent.CARD_INSERTED:
            return CardEvent.INSERTED
        case ReaderEvent.CARD_REMOVED:
            return CardEvent.REMOVED
        case ReaderEvent.READER_GONE:
            return CardEvent.READER_GONE
        case ReaderEvent.READER_BACK:
            return CardEvent.READER_BACK
        case ReaderEvent.SERVICE_GONE | ReaderEvent.SERVICE_BACK:
            return None
        case _:
            assert_never(event)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CardDocumentReader:
    """Implements DocumentReader over any HAL CardReader (PC/SC or an in-process card).

    One read at a time, each within `limits`: a deadline on the whole read (waiting for an earlier read,
    connecting, every APDU) and a cap on its APDUs. A card that is late, silent or endless ends in a typed
    refusal by the deadline, so the caller's thread is always handed back."""

    def __init__(
        self,
        reader: CardReader,
        anchors: TrustAnchors,
        profile: CardProfile | None = None,
        clock: Callable[[], datetime] = _utc_now,
        challenge_source: Callable[[int], bytes] = os.urandom,
        limits: ReadLimits | None = None,
    ) -> None:
        self._reader = reader
        self._anchors = anchors
        self._profile: CardProfile = profile if profile is not None else NidV1Profile()
        self._clock = clock
        self._challenge_source = challenge_source
        self.limits = limits if limits is not None else ReadLimits()
        self._one_read = threading.Lock()

    def status(self) -> CardReaderStatus:
        """The reader's health, for telemetry."""
        return self._reader.status()

    def start(self, notify: Callable[[CardEvent], None]) -> None:
        def forward(event: ReaderEvent) -> None:
            mapped = card_event(event)
            if mapped is not None:
                notify(mapped)

        self._reader.watch(forward)

    def read(self) -> Document | DocumentRefusal:
        """Read and authenticate the card in the reader; blocks until the read's deadline at most."""
        budget = ReadBudget(self.limits)
        if not self._one_read.acquire(timeout=budget.remaining()):
            return _link_refusal(budget.timed_out("waiting for the previous read"))
        try:
            content = self._read_content(budget)
        finally:
            self._one_read.release()
        match content:
            case LinkError():
                return _link_refusal(content)
            case WrongApplication(status_word=sw):
                return refuse(DocumentProblem.WRONG_APPLICATION, f"select application: {sw:04X}")
            case CardContent():
                return authenticate(content, self._profile, self._anchors, self._clock())
            case _:
                assert_never(content)

    def close(self) -> None:
        self._reader.close()

    def _read_content(self, budget: ReadBudget) -> CardContent | LinkError | WrongApplication:
        session = self._reader.connect(budget)
        if isinstance(session, LinkError):
            return session
        try:
            return self._profile.read(session, self._challenge_source(CHALLENGE_LENGTH))
        finally:
            session.close()


def _link_refusal(error: LinkError) -> DocumentRefusal:
    match error.problem:
        case LinkProblem.NO_CARD | LinkProblem.CARD_REMOVED:
            return refuse(DocumentProblem.REMOVED_MID_READ, error.detail)
        case LinkProblem.TIMED_OUT:
            return refuse(DocumentProblem.TIMED_OUT, error.detail)
        case (
            LinkProblem.NO_SERVICE
            | LinkProblem.NO_READER
            | LinkProblem.UNRESPONSIVE
            | LinkProblem.MALFORMED_RESPONSE
            | LinkProblem.STATUS
            | LinkProblem.TRANSPORT
            | LinkProblem.TOO_MANY_APDUS
        ):
            sw = f" SW={error.status_word:04X}" if error.status_word is not None else ""
            return refuse(DocumentProblem.UNREADABLE, f"{error.problem.value}: {error.detail}{sw}")
        case _:
            assert_never(error.problem)
