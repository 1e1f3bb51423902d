"""`kiosk-provision zeroize`: refused until the closing report is acknowledged, unless forced; then the keys,
the journal's HMAC secret and the personal data in the journal are gone, and the audit log stays."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_app.store.journal import Journal, OutboxEntry
from protocol.messages import DocumentKind, RequestKind
from provisioning import cli
from provisioning.pins import PINS_FILE, Role, set_pin
from provisioning.refusals import Problem

VOTER_HASH = "ab" * 32


def _device(folder: Path, *, close_acknowledged: bool) -> Path:
    """A terminal folder after a day: keys, HMAC secret, a journal with one voter and a close request."""
    device = folder / "device"
    assert cli.main(["init", "--dir", str(device), "--terminal", "T-z"]) == 0
    (device / "voter-hash.key").write_bytes(b"k" * 32)
    set_pin(device / PINS_FILE, Role.OPERATOR, "246810")
    journal = Journal(device / "journal.db")
    now = datetime.now(UTC)
    with journal.atomic():
        journal.add_transaction("a" * 32, DocumentKind.SMART_CARD, VOTER_HASH, False, now)
        journal.enqueue(OutboxEntry("b" * 32, "a" * 32, RequestKind.RESERVE, b"sealed-voter-jwe"), now)
        journal.enqueue(OutboxEntry("c" * 32, "d" * 32, RequestKind.CLOSE, b"close"), now)
        journal.audit(now, "step", {"event": "closed"})
    if close_acknowledged:
        journal.mark_answered("c" * 32, now)
    journal.close()
    return device


def _journal_rows(device: Path) -> tuple[list[str], list[bytes], int]:
    conn = sqlite3.connect(device / "journal.db")
    try:
        hashes = [row[0] for row in conn.execute("SELECT voter_hash FROM transactions")]
        payloads = [bytes(row[0]) for row in conn.execute("SELECT payload FROM outbox")]
        audit = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        return hashes, payloads, int(audit)
    finally:
        conn.close()


def _secrets(device: Path) -> list[str]:
    return sorted(name for name in ("tls.key", "signing.key", "permit.key", PINS_FILE,
                                          "voter-hash.key") if (device / name).exists())


def test_zeroize_before_the_close_is_acknowledged_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = _device(tmp_path, close_acknowledged=False)
    assert cli.main(["zeroize", "--dir", str(device)]) == cli.REFUSED
    err = capsys.readouterr().err
    assert f"REFUSED {Problem.CLOSE_NOT_ACKNOWLEDGED.value}" in err and "--force" in err, err
    assert _secrets(device) == ["permit.key", PINS_FILE, "signing.key", "tls.key", "voter-hash.key"], "something was wiped anyway"
    assert _journal_rows(device)[0] == [VOTER_HASH]


def test_zeroize_without_a_journal_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device = tmp_path / "device"
    assert cli.main(["init", "--dir", str(device), "--terminal", "T-z"]) == 0
    assert cli.main(["zeroize", "--dir", str(device)]) == cli.REFUSED
    assert f"REFUSED {Problem.NO_JOURNAL.value}" in capsys.readouterr().err
    assert _secrets(device) == ["permit.key", "signing.key", "tls.key"]


def test_forced_zeroize_wipes_before_acknowledgement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    device = _device(tmp_path, close_acknowledged=False)
    assert cli.main(["zeroize", "--dir", str(device), "--force"]) == 0
    assert "ZEROIZED FORCED" in capsys.readouterr().out
    assert _secrets(device) == []
    hashes, payloads, audit = _journal_rows(device)
    assert hashes == [""] and payloads == [b"", b""] and audit == 1


def test_zeroize_after_the_close_is_acknowledged_wipes_keys_secret_and_personal_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = _device(tmp_path, close_acknowledged=True)
    assert cli.main(["zeroize", "--dir", str(device)]) == 0
    assert "5 files wiped" in capsys.readouterr().out
    assert _secrets(device) == []
    hashes, payloads, audit = _journal_rows(device)
    assert hashes == [""] and payloads == [b"", b""], "personal data left in the journal"
    assert audit == 1, "the audit log must survive zeroize"
    data = b"".join(path.read_bytes() for path in device.glob("journal.db*"))
    assert VOTER_HASH.encode() not in data and b"sealed-voter-jwe" not in data, "freed pages still hold the data"
    assert cli.main(["status", "--dir", str(device)]) == cli.REFUSED
    assert "ZEROIZED" in capsys.readouterr().out


def test_zeroize_while_recorded_minutes_await_the_district_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The signing key is what the minutes request is re-sent with: it stays until the district has answered."""
    device = _device(tmp_path, close_acknowledged=True)
    journal = Journal(device / "journal.db")
    now = datetime.now(UTC)
    with journal.atomic():
        journal.enqueue(OutboxEntry("e" * 32, "f" * 32, RequestKind.MINUTES, b"minutes"), now)
    journal.close()
    assert cli.main(["zeroize", "--dir", str(device)]) == cli.REFUSED
    assert f"REFUSED {Problem.MINUTES_NOT_ACKNOWLEDGED.value}" in capsys.readouterr().err
    assert "signing.key" in _secrets(device), "the signing key was wiped with the minutes unsent"
    journal = Journal(device / "journal.db")
    journal.mark_answered("e" * 32, now)
    journal.close()
    assert cli.main(["zeroize", "--dir", str(device)]) == 0
    assert _secrets(device) == []
