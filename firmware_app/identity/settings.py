"""The `[card]` section of the terminal's config, validated at start-up, and the reader built from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from hal.backends import open_card_reader
from hal.card_reader import ReadLimits

_KEYS = frozenset({"csca_path", "reader", "extended_reads", "read_deadline_s", "max_apdus_per_read"})


@dataclass(frozen=True)
class CardSettings:
    """`csca_path`: PEM bundle of trusted CSCAs; `reader`: reader-name prefix (any reader if unset);
    `extended_reads`: use extended READ BINARY when the card declares support; `read_deadline_s` and
    `max_apdus_per_read`: the limits of one read."""

    csca_path: Path
    reader: str | None = None
    extended_reads: bool = True
    limits: ReadLimits = field(default_factory=ReadLimits)

    @classmethod
    def from_table(cls, table: Mapping[str, object]) -> CardSettings:
        """Build from a parsed TOML table; unknown keys and wrong types are errors."""
        unknown = set(table) - _KEYS
        if unknown:
            raise ValueError(f"[card]: unknown keys {sorted(unknown)}")
        csca_path = table.get("csca_path")
        reader = table.get("reader")
        extended = table.get("extended_reads", True)
        if not isinstance(csca_path, str) or not csca_path:
            raise ValueError("[card]: csca_path must be a path")
        if reader is not None and not isinstance(reader, str):
            raise ValueError("[card]: reader must be a string")
        if not isinstance(extended, bool):
            raise ValueError("[card]: extended_reads must be true or false")
        default = ReadLimits()
        deadline = table.get("read_deadline_s", default.deadline_s)
        apdus = table.get("max_apdus_per_read", default.max_apdus)
        if isinstance(deadline, bool) or not isinstance(deadline, int | float) or not deadline > 0:
            raise ValueError("[card]: read_deadline_s must be a positive number of seconds")
        if isinstance(apdus, bool) or not isinstance(apdus, int) or apdus < 1:
            raise ValueError("[card]: max_apdus_per_read must be a positive integer")
        return cls(Path(csca_path), reader, extended, ReadLimits(float(deadline), apdus))


def open_card_document_reader(settings: CardSettings) -> CardDocumentReader:
    """The PC/SC document reader; loading the trust anchors fails start-up if the CSCA file is unusable."""
    anchors = TrustAnchors.load(settings.csca_path)
    return CardDocumentReader(
        open_card_reader(settings.reader, settings.extended_reads), anchors, limits=settings.limits
    )
