"""Hostile cards in process: each read ends in a typed refusal by its deadline, the caller's thread is handed
back, and the slot reads the next card once the hostile one is pulled."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from firmware_app.flow import examples
from firmware_app.flow.effects import Show
from firmware_app.flow.events import CardRemoved, DocumentUnacceptable, Event
from firmware_app.flow.notices import DocumentRefused
from firmware_app.flow.states import DocumentRejected, Idle
from firmware_app.flow.step import step
from firmware_app.identity import nid_v1
from firmware_app.identity.document import Document, DocumentProblem, DocumentRefusal
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from firmware_app.runtime.devices import read_card
from harness.card.holder import CardHolder
from harness.card.inprocess import InProcessReader
from harness.card.pki import CardPki
from tests.card.scenarios import HANG_GUARD_S, HOSTILE, Hostile, make_chip, read_while_inserted
from tests.card.scenarios import HOSTILE_LIMITS as PCSC_LIMITS

HOSTILE_LIMITS = dataclasses.replace(PCSC_LIMITS, deadline_s=0.5)
"""In process there is no pcscd to wait for: a shorter deadline, and a genuine card still reads in it."""


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
@pytest.mark.parametrize("extended", [True, False], ids=["extended", "short"])
def test_hostile_card_ends_in_a_typed_refusal_by_the_deadline_and_the_slot_reads_the_next_card(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki, hostile: Hostile, extended: bool
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki, extended=extended)
    hostile.spoil(chip)
    slot.insert(chip)
    reader = CardDocumentReader(slot, anchors, limits=HOSTILE_LIMITS)
    result = read_while_inserted(reader)
    assert isinstance(result, DocumentRefusal), "a hostile card was accepted"
    assert result.problem is hostile.problem, result.detail
    assert len(chip.transcript) + len(chip.unanswered) <= HOSTILE_LIMITS.max_apdus
    if hostile.holds_reader:
        assert slot.io.busy, "the silent card's exchange should still hold the slot"
    slot.pull()
    assert slot.io.wait_idle(2.0), "the slot stayed held after the card was pulled"
    slot.insert(make_chip(holder, pki, extended=extended))
    following = reader.read()
    assert isinstance(following, Document), f"the next card was refused: {following}"


def test_a_read_while_a_silent_card_holds_the_slot_times_out_instead_of_waiting(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki)
    chip.faults.mute_after = 2
    slot.insert(chip)
    reader = CardDocumentReader(slot, anchors, limits=HOSTILE_LIMITS)
    first = read_while_inserted(reader)
    second = read_while_inserted(reader)
    assert isinstance(first, DocumentRefusal) and first.problem is DocumentProblem.TIMED_OUT
    assert isinstance(second, DocumentRefusal) and second.problem is DocumentProblem.TIMED_OUT, second
    assert "still held" in second.detail
    assert len(chip.unanswered) == 1, "the second read must not send anything to the silent card"
    slot.pull()


def test_a_late_answer_is_never_used(anchors: TrustAnchors, holder: CardHolder, pki: CardPki) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki)
    chip.faults.answer_delay_s = HOSTILE_LIMITS.deadline_s * 1.5
    slot.insert(chip)
    result = CardDocumentReader(slot, anchors, limits=HOSTILE_LIMITS).read()
    assert isinstance(result, DocumentRefusal) and result.problem is DocumentProblem.TIMED_OUT
    assert slot.io.wait_idle(HOSTILE_LIMITS.deadline_s * 2)
    assert len(chip.transcript) == 1, "the late answer was followed by another command"
    slot.pull()


def test_the_device_worker_is_handed_back_and_the_flow_shows_the_timeout(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki)
    chip.faults.mute_after = 3
    slot.insert(chip)
    reader = CardDocumentReader(slot, anchors, limits=HOSTILE_LIMITS)
    posted: list[Event] = []
    faults: list[tuple[str, Exception]] = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(read_card, reader, posted.append, lambda where, exc: faults.append((where, exc)))
        after = worker.submit(lambda: "the worker is free")
        assert after.result(timeout=HANG_GUARD_S) == "the worker is free"
    event = posted[0]
    assert not faults, f"a timed-out read is a device status, not a fault: {faults}"
    assert isinstance(event, DocumentUnacceptable) and event.refusal.problem is DocumentProblem.TIMED_OUT
    rejected = step(Idle(day=examples.DAY), event)
    assert isinstance(rejected.state, DocumentRejected)
    assert rejected.state.refused == DocumentRefused(DocumentProblem.TIMED_OUT)
    assert Show(DocumentRefused(DocumentProblem.TIMED_OUT)) in rejected.effects
    slot.pull()
    assert isinstance(step(rejected.state, CardRemoved()).state, Idle)


@pytest.mark.parametrize("first_read", [1, 2, 3, 4])
@pytest.mark.parametrize("extended", [True, False], ids=["extended", "short"])
def test_a_first_read_with_only_part_of_the_tlv_header_is_continued(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki, first_read: int, extended: bool
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki, extended=extended)
    chip.faults.first_read_bytes = first_read
    slot.insert(chip)
    result = CardDocumentReader(slot, anchors).read()
    assert isinstance(result, Document), f"refused: {result}"
    assert result.photo == holder.face_jpeg
    first_answers = [response for command, response in chip.transcript if command[1] == 0xB0 and command[2:4] == b"\0\0"]
    assert first_answers and all(len(response) == first_read + 2 for response in first_answers)


def test_a_file_announcing_more_than_the_profile_allows_is_not_read_on(
    anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    slot = InProcessReader()
    chip = make_chip(holder, pki)
    chip.inflate_length(nid_v1.FID_SECURITY_OBJECT, 0x10000)
    slot.insert(chip)
    result = CardDocumentReader(slot, anchors).read()
    assert isinstance(result, DocumentRefusal) and result.problem is DocumentProblem.UNREADABLE
    assert "announces" in result.detail
    assert sum(1 for command in chip.commands if command[1] == 0xB0) == 1
