"""Documents read through the real stack: pyscard -> pcscd -> vpcd -> our virtual card."""

from __future__ import annotations

import pytest

from drivers.pcsc.reader import PcscCardReader
from firmware_app.flow import texts
from firmware_app.identity.document import Document, DocumentRefusal
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import ReaderState
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder
from harness.card.pki import CardPki
from harness.card.vpcd import VpcdSlot
from protocol.messages import DocumentKind
from tests.card.conftest import wait_for
from tests.card.scenarios import REFUSALS, Scenario, make_chip

pytestmark = pytest.mark.real_peer


def _read(slot: VpcdSlot, reader: PcscCardReader, anchors: TrustAnchors, chip: VirtualChip) -> Document | DocumentRefusal:
    slot.insert(chip)
    wait_for(lambda: reader.status().state is ReaderState.CARD_PRESENT, "pcscd to see the card")
    return CardDocumentReader(reader, anchors).read()


@pytest.mark.parametrize("extended", [True, False], ids=["extended", "short"])
def test_genuine_card_gives_the_holders_document(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki, extended: bool
) -> None:
    chip = make_chip(holder, pki, extended=extended)
    result = _read(slot, pcsc_reader, anchors, chip)
    assert isinstance(result, Document), f"refused: {result}"
    assert result.kind is DocumentKind.SMART_CARD
    assert result.national_code.digits == holder.national_code
    assert (result.given_name, result.family_name, result.father_name) == (
        holder.given_name,
        holder.family_name,
        holder.father_name,
    )
    assert result.birth_date == holder.birth_date
    assert result.photo == holder.face_jpeg
    read_binaries = [command for command in chip.commands if command[1] == 0xB0]
    if extended:
        assert all(len(command) == 7 for command in read_binaries), "extended card should get extended reads"
    else:
        assert all(len(command) == 5 for command in read_binaries), "short card got an extended APDU"
        assert len(read_binaries) > len(holder.face_jpeg) // 256


def test_card_answering_t0_style_and_demanding_exact_le_is_still_read(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    chip = make_chip(holder, pki, extended=False)
    chip.faults.t0_style_responses = True
    chip.faults.exact_le_only = True
    result = _read(slot, pcsc_reader, anchors, chip)
    assert isinstance(result, Document), f"refused: {result}"
    assert result.photo == holder.face_jpeg
    assert any(command[1] == 0xC0 for command in chip.commands), "no GET RESPONSE was sent"


@pytest.mark.parametrize("scenario", REFUSALS, ids=[s.name for s in REFUSALS])
def test_spoiled_card_is_refused_with_the_precise_problem(
    slot: VpcdSlot,
    pcsc_reader: PcscCardReader,
    anchors: TrustAnchors,
    holder: CardHolder,
    pki: CardPki,
    scenario: Scenario,
) -> None:
    result = _read(slot, pcsc_reader, anchors, make_chip(holder, pki, scenario))
    assert isinstance(result, DocumentRefusal), "a spoiled card was accepted"
    assert result.problem is scenario.problem, result.detail
    assert result.problem in texts.DOCUMENT_PROBLEMS


def test_reading_an_empty_reader_is_refused_not_raised(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors
) -> None:
    result = CardDocumentReader(pcsc_reader, anchors).read()
    assert isinstance(result, DocumentRefusal)
    assert pcsc_reader.status().state is ReaderState.NO_CARD
