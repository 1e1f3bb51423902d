"""`kiosk audit export|verify`: a faithful export verifies; an altered, shortened, reordered or re-signed one
fails and names the first bad entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from firmware_app import cli
from firmware_app.audit_export import HEAD_TYPE, AuditFault, Fault, Verified, export, verify
from firmware_app.store.audit import GENESIS, entry_hash
from firmware_app.store.journal import Journal
from protocol.seal import SIGNATURE_ALG, generate_signing_key, public_part, save_key

ENTRIES = 5
Document = dict[str, Any]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.db"
    opened = Journal(path)
    start = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    for number in range(1, ENTRIES + 1):
        with opened.atomic():
            opened.audit(start + timedelta(minutes=number), "step", {"event": f"e{number}", "state": "idle"})
    opened.close()
    return path


@pytest.fixture
def key() -> OKPKey:
    return generate_signing_key()


def _rechain(document: Document) -> Document:
    """What a forger does after editing entries: recompute every hash so the chain is consistent again."""
    prev = GENESIS
    for entry in document["entries"]:
        entry["prev_hash"] = prev
        entry["hash"] = entry_hash(prev, entry["seq"], entry["at"], entry["kind"], entry["detail"])
        prev = entry["hash"]
    return document


def _altered(document: Document) -> Document:
    document["entries"][2]["detail"] = '{"event":"e3","state":"printing"}'
    return document


def _removed(document: Document) -> Document:
    del document["entries"][2]
    return document


def _truncated(document: Document) -> Document:
    del document["entries"][-1]
    return document


def _reordered(document: Document) -> Document:
    entries = document["entries"]
    entries[2], entries[3] = entries[3], entries[2]
    return document


def _rewritten(document: Document) -> Document:
    return _rechain(_altered(document))


def _resigned(document: Document) -> Document:
    """Altered, rechained and signed again, by a key that is not the terminal's."""
    forged = _rewritten(document)
    forger = generate_signing_key()
    fresh = export_of(forged, forger)
    forged["signature"] = fresh["signature"]
    return forged


def audit(argv: list[str]) -> int:
    """`kiosk audit ...` through the built-in table (without loading the harness's plug-ins)."""
    return cli.BUILT_IN["audit"](argv)


def export_of(document: Document, key: OKPKey) -> Document:
    """Sign `document`'s head as `export` would, without a journal."""
    last = document["entries"][-1]
    head = {"count": len(document["entries"]), "head_seq": last["seq"], "head_hash": last["hash"],
            "exported_at": "2026-11-29T22:00:00+00:00"}
    header = {"alg": SIGNATURE_ALG, "typ": HEAD_TYPE, "kid": key.thumbprint()}
    return {**document, "signature": jws.serialize_compact(header, json.dumps(head), key, algorithms=[SIGNATURE_ALG])}


def test_a_faithful_export_verifies_through_the_cli(
    journal: Path, key: OKPKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_key(key, tmp_path / "signing.key", private=True)
    save_key(public_part(key), tmp_path / "signing.pub.pem", private=False)
    out = tmp_path / "audit.json"
    assert audit(["export", "--journal", str(journal), "--key", str(tmp_path / "signing.key"),
                     "--out", str(out)]) == 0
    assert audit(["verify", str(out), "--pubkey", str(tmp_path / "signing.pub.pem")]) == 0
    assert f"VERIFIED): {ENTRIES} entries" in capsys.readouterr().out


def test_an_altered_export_fails_through_the_cli_naming_the_entry(
    journal: Path, key: OKPKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_key(public_part(key), tmp_path / "signing.pub.pem", private=False)
    out = tmp_path / "audit.json"
    out.write_text(json.dumps(_altered(export(journal, key, datetime.now(UTC)))))
    assert audit(["verify", str(out), "--pubkey", str(tmp_path / "signing.pub.pem")]) == 1
    assert "FAILED altered at entry 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tamper", "fault", "seq"),
    [
        (_altered, Fault.ALTERED, 3),
        (_removed, Fault.MISSING, 3),
        (_truncated, Fault.TRUNCATED, ENTRIES),
        (_reordered, Fault.OUT_OF_ORDER, 4),
        (_rewritten, Fault.REWRITTEN, None),
        (_resigned, Fault.BAD_SIGNATURE, None),
    ],
    ids=["altered", "removed", "truncated", "reordered", "rechained", "re-signed-by-another-key"],
)
def test_a_tampered_export_fails_and_names_the_first_bad_entry(
    journal: Path, key: OKPKey, tamper: Callable[[Document], Document], fault: Fault, seq: int | None
) -> None:
    faithful = export(journal, key, datetime.now(UTC))
    assert verify(faithful, public_part(key)) == Verified(ENTRIES, faithful["entries"][-1]["hash"])
    verdict = verify(tamper(json.loads(json.dumps(faithful))), public_part(key))
    assert isinstance(verdict, AuditFault), f"a tampered export verified: {verdict}"
    assert (verdict.fault, verdict.seq) == (fault, seq), verdict


def test_an_export_checked_with_another_terminals_key_fails(journal: Path, key: OKPKey) -> None:
    verdict = verify(export(journal, key, datetime.now(UTC)), public_part(generate_signing_key()))
    assert isinstance(verdict, AuditFault) and verdict.fault is Fault.BAD_SIGNATURE, verdict
