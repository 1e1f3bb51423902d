"""The journal's OFFLINE slips: a record kept once per transaction and per sequence of its permit, never changed or
deleted, and the center's first record of it kept beside it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_app.store.journal import Journal
from firmware_app.store.offline import OfflineSlip
from protocol.messages import OfflineOutcome

AT = datetime(2026, 6, 12, 18, 10, tzinfo=UTC)
PERMIT = "ab" * 16


def slip(n: int, sequence: int | None = None) -> OfflineSlip:
    return OfflineSlip(f"{n:032x}", PERMIT, sequence or n, f"0100{n:02d}73158", f"signed record {n}".encode(), None)


def test_a_recorded_slip_reads_back_and_keeps_the_centers_first_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    with journal.atomic():
        journal.record_offline_slip(slip(1), AT)
        journal.record_offline_slip(slip(2), AT)
    with journal.atomic():
        assert journal.set_offline_outcome(slip(1).tx_id, OfflineOutcome.DOUBLE_VOTE, AT + timedelta(hours=1))
        assert journal.set_offline_outcome(slip(1).tx_id, OfflineOutcome.ISSUED, AT + timedelta(hours=2))
        assert not journal.set_offline_outcome("f" * 32, OfflineOutcome.ISSUED, AT)
    journal.close()
    again = Journal(tmp_path / "journal.db")
    assert again.offline_slips() == [
        OfflineSlip(slip(1).tx_id, PERMIT, 1, slip(1).offline_code, slip(1).record, OfflineOutcome.DOUBLE_VOTE),
        slip(2)]


@pytest.mark.parametrize("second", [slip(1, sequence=7), slip(2, sequence=1)], ids=["same_tx", "same_sequence"])
def test_a_transaction_or_a_sequence_is_recorded_once(tmp_path: Path, second: OfflineSlip) -> None:
    journal = Journal(tmp_path / "journal.db")
    with journal.atomic():
        journal.record_offline_slip(slip(1), AT)
    with pytest.raises(sqlite3.IntegrityError), journal.atomic():
        journal.record_offline_slip(second, AT)
    assert journal.offline_slips() == [slip(1)]


@pytest.mark.parametrize("statement", ["UPDATE offline_slips SET record = x'00'",
                                       "UPDATE offline_slips SET offline_code = '01000273158'",
                                       "DELETE FROM offline_slips"])
def test_a_record_is_never_changed_or_deleted(tmp_path: Path, statement: str) -> None:
    journal = Journal(tmp_path / "journal.db")
    with journal.atomic():
        journal.record_offline_slip(slip(1), AT)
    with pytest.raises(sqlite3.IntegrityError, match="never"), journal.atomic():
        journal.conn.execute(statement)
    assert journal.offline_slips() == [slip(1)]
