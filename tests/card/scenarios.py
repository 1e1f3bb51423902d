"""Card scenarios as data: how the card is made or spoiled, and the refusal the terminal must give."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from firmware_app.identity import nid_v1
from firmware_app.identity.document import Document, DocumentProblem, DocumentReader, DocumentRefusal
from hal.card_reader import ReadLimits
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder
from harness.card.issue import issue_card
from harness.card.pki import CardPki, make_pki

INVALID_CHECK_DIGIT = "1234567890"


@dataclass(frozen=True)
class Scenario:
    name: str
    problem: DocumentProblem
    spoil: Callable[[VirtualChip], None] = field(default=lambda _chip: None)
    expired: bool = False
    national_code: str | None = None


def _pull_after(count: int) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        chip.faults.pull_after = count

    return spoil


def _truncate_after(count: int) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        chip.faults.truncate_after = count

    return spoil


def _status(ins: int, sw: int) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        chip.faults.status_for_ins[ins] = sw

    return spoil


def _untrusted_signer(label: str) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        chip.resign(make_pki(label=label).document_signer)

    return spoil


REFUSALS = (
    Scenario("pulled_mid_read", DocumentProblem.REMOVED_MID_READ, _pull_after(4)),
    Scenario("truncated_responses", DocumentProblem.UNREADABLE, _truncate_after(3)),
    Scenario("read_binary_fails", DocumentProblem.UNREADABLE, _status(0xB0, 0x6F00)),
    Scenario("another_application", DocumentProblem.WRONG_APPLICATION, _status(nid_v1.INS_SELECT, 0x6A82)),
    Scenario("face_altered", DocumentProblem.DATA_ALTERED, lambda chip: chip.corrupt_file(nid_v1.FID_FACE)),
    Scenario(
        "personal_data_altered",
        DocumentProblem.DATA_ALTERED,
        lambda chip: chip.corrupt_file(nid_v1.FID_PERSONAL_DATA),
    ),
    Scenario("signature_broken", DocumentProblem.SIGNATURE_INVALID, VirtualChip.break_signature),
    Scenario("signer_from_unknown_csca", DocumentProblem.SIGNER_UNTRUSTED, _untrusted_signer("Impostor")),
    Scenario("signer_from_lookalike_csca", DocumentProblem.SIGNER_UNTRUSTED, _untrusted_signer("Test")),
    Scenario("cloned_chip", DocumentProblem.CLONE_SUSPECTED, VirtualChip.use_wrong_chip_key),
    Scenario(
        "no_active_authentication",
        DocumentProblem.CLONE_SUSPECTED,
        _status(nid_v1.INS_INTERNAL_AUTHENTICATE, 0x6D00),
    ),
    Scenario("expired", DocumentProblem.EXPIRED, expired=True),
    Scenario("bad_national_code", DocumentProblem.BAD_NATIONAL_CODE, national_code=INVALID_CHECK_DIGIT),
    Scenario("national_code_padded_with_a_space", DocumentProblem.BAD_NATIONAL_CODE, national_code=" 0012345679"),
    Scenario("national_code_with_a_newline", DocumentProblem.BAD_NATIONAL_CODE, national_code="0012345679\n"),
)


def make_chip(holder: CardHolder, pki: CardPki, scenario: Scenario | None = None, extended: bool = True) -> VirtualChip:
    expiry = date.today() - timedelta(days=1) if scenario is not None and scenario.expired else None
    code = scenario.national_code if scenario is not None else None
    chip = VirtualChip(issue_card(holder, pki.document_signer, expiry=expiry, national_code=code), extended)
    if scenario is not None:
        scenario.spoil(chip)
    return chip


HOSTILE_LIMITS = ReadLimits(deadline_s=1.0, max_apdus=400)
"""Tight limits for hostile cards, so each test ends quickly; a genuine card reads well within them."""


@dataclass(frozen=True)
class Hostile:
    """A card built to hold the reader or the read: how, the refusal it must end in, and whether the reader
    stays held by it (a call PC/SC cannot abandon) until it is pulled."""

    name: str
    problem: DocumentProblem
    spoil: Callable[[VirtualChip], None]
    holds_reader: bool = False


def _faults(**changes: object) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        for name, value in changes.items():
            setattr(chip.faults, name, value)

    return spoil


def _inflated(file_id: int, extra: int) -> Callable[[VirtualChip], None]:
    def spoil(chip: VirtualChip) -> None:
        chip.inflate_length(file_id, extra)

    return spoil


HOSTILE = (
    Hostile("mute_mid_read", DocumentProblem.TIMED_OUT, _faults(mute_after=4), holds_reader=True),
    Hostile("zero_length_frame", DocumentProblem.TIMED_OUT, _faults(empty_frame_after=4), holds_reader=True),
    Hostile("frame_promises_more_bytes", DocumentProblem.TIMED_OUT, _faults(overlong_frame_after=4),
            holds_reader=True),
    Hostile("every_answer_late", DocumentProblem.TIMED_OUT, _faults(answer_delay_s=0.3)),
    Hostile("tlv_length_beyond_the_data", DocumentProblem.UNREADABLE, _inflated(nid_v1.FID_FACE, 5000)),
    Hostile("tlv_length_beyond_32_kb", DocumentProblem.UNREADABLE, _inflated(nid_v1.FID_FACE, 40000)),
    Hostile("endless_61xx_chain", DocumentProblem.UNREADABLE, _faults(endless_more_data=True)),
    Hostile("6cxx_loop", DocumentProblem.UNREADABLE, _faults(wrong_le_loop=True)),
    Hostile("one_byte_per_read", DocumentProblem.UNREADABLE, _faults(read_binary_max=1)),
)


HANG_GUARD_S = 30.0
"""Not a speed bound: a read still running this long after it started is waiting for the card to be pulled,
which is the failure the hostile-card tests look for (they never pull the card before the read returns)."""


def read_while_inserted(reader: DocumentReader) -> Document | DocumentRefusal:
    """Read with the hostile card left in the reader: the read must end by itself (its deadline or its APDU
    cap), not when the card goes. A read that never ends fails the test instead of hanging it."""
    outcome: queue.Queue[Document | DocumentRefusal] = queue.Queue()
    threading.Thread(target=lambda: outcome.put(reader.read()), name="hostile-read", daemon=True).start()
    try:
        return outcome.get(timeout=HANG_GUARD_S)
    except queue.Empty:
        raise AssertionError("the read did not end while the card stayed in the reader") from None
