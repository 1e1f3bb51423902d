"""The document the flow is given: authenticated smart-card data or a typed national code, or a refusal."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from protocol.messages import DocumentKind
from protocol.national_code import NationalCode


@dataclass(frozen=True)
class Document:
    """A voter's document. `photo` is the chip's JPEG; typed codes have none. Lives in memory only."""

    kind: DocumentKind
    national_code: NationalCode
    given_name: str = ""
    family_name: str = ""
    birth_date: date | None = None
    photo: bytes = field(default=b"", repr=False)
    father_name: str = ""
    card_serial: str = ""
    expiry: date | None = None

    def __repr__(self) -> str:
        return f"Document(kind={self.kind.value})"


class DocumentProblem(enum.StrEnum):
    """Why a document was refused; the terminal's texts tell the operator what to do about each."""

    BAD_NATIONAL_CODE = "bad_national_code"
    UNREADABLE = "unreadable"
    REMOVED_MID_READ = "removed_mid_read"
    TIMED_OUT = "timed_out"
    WRONG_APPLICATION = "wrong_application"
    DATA_ALTERED = "data_altered"
    SIGNATURE_INVALID = "signature_invalid"
    SIGNER_UNTRUSTED = "signer_untrusted"
    CLONE_SUSPECTED = "clone_suspected"
    EXPIRED = "expired"


@dataclass(frozen=True)
class DocumentRefusal:
    """`detail` is technical, for logs, and never holds personal data."""

    problem: DocumentProblem
    detail: str = ""


class CardEvent(enum.StrEnum):
    INSERTED = "inserted"
    REMOVED = "removed"
    READER_GONE = "reader_gone"
    READER_BACK = "reader_back"


class DocumentReader(Protocol):
    """Reads and authenticates the card in the reader. `read` blocks, up to its read deadline; call it from a
    worker thread."""

    def start(self, notify: Callable[[CardEvent], None]) -> None: ...

    def read(self) -> Document | DocumentRefusal: ...

    def close(self) -> None: ...
