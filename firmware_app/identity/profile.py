"""What a card profile provides: how to read a card's files and how to decode them, pluggable per card kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from hal.card_reader import CardSession, LinkError


@dataclass(frozen=True)
class PersonalData:
    """The personal-data file as printed on the card; the national code is still unvalidated digits."""

    national_code: str
    given_name: str
    family_name: str
    father_name: str
    birth_date: date
    card_serial: str
    expiry: date


@dataclass(frozen=True)
class CardContent:
    """Everything read from the chip: hashed files by id, the security object, the chip's challenge answer."""

    files: Mapping[int, bytes] = field(repr=False)
    security_object: bytes = field(repr=False)
    challenge: bytes
    challenge_response: bytes | None


@dataclass(frozen=True)
class WrongApplication:
    """The card does not carry this profile's application."""

    status_word: int


@dataclass(frozen=True)
class ProfileError:
    """A file the profile could not decode."""

    file: str
    detail: str


class CardProfile(Protocol):
    """One card kind's commands and encodings; authentication logic stays the same across profiles."""

    @property
    def name(self) -> str: ...

    def read(self, session: CardSession, challenge: bytes) -> CardContent | LinkError | WrongApplication: ...

    def personal_data(self, content: CardContent) -> PersonalData | ProfileError: ...

    def face(self, content: CardContent) -> bytes | ProfileError: ...

    def chip_key(self, content: CardContent) -> bytes | ProfileError:
        """The chip's public key as DER SubjectPublicKeyInfo."""
        ...
