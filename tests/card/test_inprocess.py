"""Fast tests with the virtual card plugged in-process under the same HAL interface as PC/SC."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from firmware_app.flow import texts
from firmware_app.identity import nid_v1
from firmware_app.identity.document import (
    CardEvent,
    Document,
    DocumentProblem,
    DocumentReader,
    DocumentRefusal,
)
from firmware_app.identity.settings import CardSettings, open_card_document_reader
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors, TrustConfigError
from hal.card_reader import ReaderState
from harness.card.holder import CardHolder
from harness.card.inprocess import InProcessReader
from harness.card.pki import CardPki
from tests.card.scenarios import REFUSALS, Scenario, make_chip


def test_genuine_card_is_accepted_and_short_reads_take_one_apdu_per_256_bytes(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki, extended=False)
    slot.insert(chip)
    result = CardDocumentReader(slot, anchors).read()
    assert isinstance(result, Document), f"refused: {result}"
    assert result.photo == holder.face_jpeg
    assert result.card_serial and result.expiry is not None and result.expiry > datetime.now(UTC).date()
    files = chip.image.files
    expected_reads = sum(max(1, math.ceil(len(files[fid]) / 256)) for fid in files)
    assert sum(1 for command in chip.commands if command[1] == 0xB0) == expected_reads


def test_extended_card_is_read_with_one_read_binary_per_file(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki, extended=True)
    slot.insert(chip)
    assert isinstance(CardDocumentReader(slot, anchors).read(), Document)
    assert sum(1 for command in chip.commands if command[1] == 0xB0) == len(chip.image.files)


@pytest.mark.parametrize("scenario", REFUSALS, ids=[s.name for s in REFUSALS])
@pytest.mark.parametrize("extended", [True, False], ids=["extended", "short"])
def test_spoiled_card_is_refused_in_process(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki, scenario: Scenario, extended: bool
) -> None:
    slot = InProcessReader()
    slot.insert(make_chip(holder, pki, scenario, extended))
    result = CardDocumentReader(slot, anchors).read()
    assert isinstance(result, DocumentRefusal), "a spoiled card was accepted"
    assert result.problem is scenario.problem, result.detail
    assert texts.DOCUMENT_PROBLEMS[result.problem], "every refusal has its operator text"


def test_card_read_after_its_signer_expired_is_refused_as_untrusted(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    slot.insert(make_chip(holder, pki))
    later = pki.document_signer.certificate.not_valid_after_utc + timedelta(days=1)
    result = CardDocumentReader(slot, anchors, clock=lambda: later).read()
    assert isinstance(result, DocumentRefusal)
    assert result.problem is DocumentProblem.SIGNER_UNTRUSTED


def test_pulled_card_and_empty_slot_post_events_and_refuse(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    events: list[CardEvent] = []
    reader: DocumentReader = CardDocumentReader(slot, anchors)
    reader.start(events.append)
    chip = make_chip(holder, pki)
    chip.faults.pull_after = 2
    slot.insert(chip)
    result = reader.read()
    assert isinstance(result, DocumentRefusal) and result.problem is DocumentProblem.REMOVED_MID_READ
    assert events == [CardEvent.INSERTED, CardEvent.REMOVED]
    assert slot.status().state is ReaderState.NO_CARD
    empty = reader.read()
    assert isinstance(empty, DocumentRefusal) and empty.problem is DocumentProblem.REMOVED_MID_READ
    reader.close()


def test_every_file_of_the_profile_is_covered_by_the_security_object(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    chip = make_chip(holder, pki)
    for file_id in nid_v1.HASHED_FILES:
        slot = InProcessReader()
        spoiled = make_chip(holder, pki)
        spoiled.corrupt_file(file_id)
        slot.insert(spoiled)
        result = CardDocumentReader(slot, anchors).read()
        assert isinstance(result, DocumentRefusal) and result.problem is DocumentProblem.DATA_ALTERED, file_id
    assert set(chip.image.files) == {*nid_v1.HASHED_FILES, nid_v1.FID_SECURITY_OBJECT}


def test_card_settings_reject_unknown_keys_and_build_a_pcsc_reader(tmp_path: Path, pki: CardPki) -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        CardSettings.from_table({"csca_path": "x.pem", "port": 1})
    with pytest.raises(ValueError, match="csca_path"):
        CardSettings.from_table({})
    settings = CardSettings.from_table({"csca_path": str(pki.write_csca(tmp_path / "csca.pem")), "reader": "BVT"})
    assert settings.extended_reads
    assert isinstance(open_card_document_reader(settings), CardDocumentReader)
    (tmp_path / "leaf.pem").write_bytes(pki.document_signer.certificate.public_bytes(Encoding.PEM))
    with pytest.raises(TrustConfigError, match="not a CA"):
        open_card_document_reader(CardSettings(tmp_path / "leaf.pem"))
