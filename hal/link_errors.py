"""Typed link errors: what went wrong between the terminal and the card, as values, never exceptions."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LinkProblem(enum.StrEnum):
    """Where an APDU exchange failed, from the service down to the card's own answer."""

    NO_SERVICE = "no_service"
    NO_READER = "no_reader"
    NO_CARD = "no_card"
    CARD_REMOVED = "card_removed"
    UNRESPONSIVE = "unresponsive"
    MALFORMED_RESPONSE = "malformed_response"
    STATUS = "status"
    TRANSPORT = "transport"
    TIMED_OUT = "timed_out"
    """The read's deadline passed: the card answered too slowly or not at all, or still held the reader."""
    TOO_MANY_APDUS = "too_many_apdus"
    """The card needed more APDUs than one read is allowed (chains that never end, trickled data)."""


@dataclass(frozen=True)
class LinkError:
    """A failed exchange. `status_word` is set for STATUS (the card refused); `code` keeps a PC/SC code."""

    problem: LinkProblem
    detail: str = ""
    status_word: int | None = None
    code: int | None = None
