"""Card scenarios as data: how the card is made or spoiled, and the refusal the terminal must give."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from firmware_app.identity import nid_v1
from firmware_app.identity.document import DocumentProblem
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
)


def make_chip(holder: CardHolder, pki: CardPki, scenario: Scenario | None = None, extended: bool = True) -> VirtualChip:
    expiry = date.today() - timedelta(days=1) if scenario is not None and scenario.expired else None
    code = scenario.national_code if scenario is not None else None
    chip = VirtualChip(issue_card(holder, pki.document_signer, expiry=expiry, national_code=code), extended)
    if scenario is not None:
        scenario.spoil(chip)
    return chip
