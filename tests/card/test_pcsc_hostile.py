"""Hostile cards through the real stack (pyscard -> pcscd -> vpcd -> our virtual card): every read ends in a
typed refusal by its deadline, and the same reader reads the next card once the hostile one is pulled."""

from __future__ import annotations

import pytest

from drivers.pcsc.reader import PcscCardReader
from firmware_app.identity.document import CardEvent, Document, DocumentProblem, DocumentRefusal
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import ReaderState
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder
from harness.card.pki import CardPki
from harness.card.vpcd import VpcdSlot
from tests.card.conftest import wait_for
from tests.card.scenarios import HOSTILE, HOSTILE_LIMITS, Hostile, make_chip, read_while_inserted
from tests.card.test_pcsc_events import Recorder

pytestmark = pytest.mark.real_peer


def _insert(slot: VpcdSlot, reader: PcscCardReader, chip: VirtualChip) -> None:
    slot.insert(chip)
    wait_for(lambda: reader.status().state is ReaderState.CARD_PRESENT, "pcscd to see the card")


def _pull(slot: VpcdSlot, reader: PcscCardReader) -> None:
    slot.pull()
    wait_for(lambda: reader.status().state is ReaderState.NO_CARD, "pcscd to see the card gone")


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_card_ends_in_a_typed_refusal_by_the_deadline_and_the_reader_reads_the_next_card(
    slot: VpcdSlot,
    pcsc_reader: PcscCardReader,
    anchors: TrustAnchors,
    holder: CardHolder,
    pki: CardPki,
    hostile: Hostile,
) -> None:
    chip = make_chip(holder, pki, extended=False)
    hostile.spoil(chip)
    _insert(slot, pcsc_reader, chip)
    reader = CardDocumentReader(pcsc_reader, anchors, limits=HOSTILE_LIMITS)
    result = read_while_inserted(reader)
    assert isinstance(result, DocumentRefusal), "a hostile card was accepted"
    assert result.problem is hostile.problem, result.detail
    assert len(chip.transcript) + len(chip.unanswered) <= HOSTILE_LIMITS.max_apdus
    if hostile.holds_reader:
        status = pcsc_reader.status()
        assert status.state is ReaderState.CARD_PRESENT and "stopped answering" in status.detail, status
    _pull(slot, pcsc_reader)
    _insert(slot, pcsc_reader, make_chip(holder, pki, extended=False))
    following = reader.read()
    assert isinstance(following, Document), f"the next card was refused: {following}"
    assert following.national_code.digits == holder.national_code


def test_while_a_silent_card_holds_the_reader_reads_time_out_and_events_still_arrive(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    recorder = Recorder[CardEvent]()
    reader = CardDocumentReader(pcsc_reader, anchors, limits=HOSTILE_LIMITS)
    reader.start(recorder)
    try:
        chip = make_chip(holder, pki)
        chip.faults.mute_after = 2
        slot.insert(chip)
        recorder.wait_for(CardEvent.INSERTED)
        first = read_while_inserted(reader)
        second = read_while_inserted(reader)
        assert isinstance(first, DocumentRefusal) and first.problem is DocumentProblem.TIMED_OUT, first
        assert isinstance(second, DocumentRefusal) and second.problem is DocumentProblem.TIMED_OUT, second
        assert "still held" in second.detail
        assert len(chip.unanswered) == 1, "the second read must not reach the silent card"
        slot.pull()
        recorder.wait_for(CardEvent.REMOVED)
        slot.insert(make_chip(holder, pki))
        recorder.wait_for(CardEvent.INSERTED)
        assert isinstance(reader.read(), Document)
    finally:
        reader.close()


def test_a_first_read_with_only_part_of_the_tlv_header_is_read_through_pcscd(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    chip = make_chip(holder, pki)
    chip.faults.first_read_bytes = 1
    _insert(slot, pcsc_reader, chip)
    result = CardDocumentReader(pcsc_reader, anchors).read()
    assert isinstance(result, Document), f"refused: {result}"
    assert result.photo == holder.face_jpeg
