"""The minutes document the terminal records, prints and sends, made of what the officials agreed on and what only
the journal and the settings know: the slips issued, the center's count, the bundle's hash, the time."""

from __future__ import annotations

from datetime import datetime

from firmware_app.flow.effects import Counter
from firmware_app.runtime.settings import ElectionOfDay, RuntimeSettings
from firmware_app.store.journal import Journal
from protocol.codec import MAX_MINUTES_BYTES, encode_minutes
from protocol.minutes import Minutes, MinutesFigures, check_minutes


class MinutesNotRecordableError(Exception):
    """The flow asked for minutes the terminal cannot record (no bundle, or more than the protocol carries): a
    bug, so the step is rolled back and audited as a fault."""


def election_of(settings: RuntimeSettings) -> ElectionOfDay:
    if settings.election is None:
        raise MinutesNotRecordableError("no election bundle in the settings")
    return settings.election


def build_minutes(settings: RuntimeSettings, journal: Journal, figures: MinutesFigures,
                  officials: tuple[str, str], at: datetime) -> Minutes:
    """Every check made now, against the slips the journal counts issued and the branch's committed slips the
    center gave at closing (that check is not made while the closing is unacknowledged); a failed check is
    recorded, never a reason to refuse."""
    election = election_of(settings)
    counts = journal.counts()
    issued = counts[Counter.ISSUED]
    committed = journal.branch_committed()
    minutes = Minutes(
        bundle_hash=election.bundle_hash, figures=figures, officials=officials, slips_issued=issued,
        center_committed=committed, checks=check_minutes(figures, election.bundle, issued, committed),
        entered_at=at, training=settings.training, offline_slips=counts[Counter.OFFLINE_ISSUED],
    )
    size = len(encode_minutes(minutes))
    if size > MAX_MINUTES_BYTES:
        raise MinutesNotRecordableError(f"the minutes take {size} bytes, the protocol {MAX_MINUTES_BYTES}")
    return minutes
