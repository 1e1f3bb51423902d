"""One vpcd slot per terminal on the shared pcscd: issue a voter's card, insert it, hand it back."""

from __future__ import annotations

import random
import time

from center.eligibility import VoterRecord
from drivers.pcsc.reader import PcscCardReader
from hal.card_reader import ReaderState
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder, synthetic_face_jpeg
from harness.card.issue import issue_card
from harness.card.pcscd import Pcscd, slot_reader_name
from harness.card.pki import CardPki
from harness.card.vpcd import VpcdSlot

_FATHERS = ("احمد", "حسن", "عباس", "مجید", "ناصر", "کاظم", "یوسف", "ابراهیم")


def holder_of(record: VoterRecord, seed: int, face_jpeg: bytes | None = None) -> CardHolder:
    """The card a voter of the roll carries: the roll's code, name and birth date, and a face photo."""
    given, _, family = record.name.partition(" ")
    rng = random.Random(seed)
    face = face_jpeg or synthetic_face_jpeg(rng.randrange(1 << 30), 18 * 1024)
    return CardHolder(record.national_code.digits, given, family or given, rng.choice(_FATHERS),
                      record.birth_date, face)


class CardDesk:
    """The card reader in front of one terminal: vpcd slot `slot` of the shared pcscd."""

    def __init__(self, pcscd: Pcscd, pki: CardPki, slot: int) -> None:
        self.reader_name = slot_reader_name(slot)
        self._pki = pki
        self._slot = VpcdSlot(pcscd.port + slot)

    def present(self, holder: CardHolder) -> VirtualChip:
        chip = VirtualChip(issue_card(holder, self._pki.document_signer))
        self.take_back()
        self._slot.insert(chip)
        self._wait_for(ReaderState.CARD_PRESENT)
        return chip

    def take_back(self) -> None:
        if self._slot.chip is not None:
            self._slot.pull()
            self._wait_for(ReaderState.NO_CARD)

    def _wait_for(self, state: ReaderState, wait: float = 10.0) -> None:
        reader = PcscCardReader(self.reader_name)
        deadline = time.monotonic() + wait
        while reader.status().state is not state:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pcscd did not report {state.value} for {self.reader_name}")
            time.sleep(0.02)

