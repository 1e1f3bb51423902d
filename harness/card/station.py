"""A card station for the demo and tests: the shared pcscd, vpcd's slot 0, a test PKI, cards on demand."""

from __future__ import annotations

import time
from pathlib import Path

from drivers.pcsc.reader import PcscCardReader
from hal.card_reader import ReaderState
from harness.card.chip import VirtualChip
from harness.card.holder import CardHolder
from harness.card.issue import issue_card
from harness.card.pcscd import DEFAULT_PORT, Pcscd, slot_reader_name
from harness.card.pki import make_pki
from harness.card.vpcd import VpcdSlot


class CardStation:
    """Starts pcscd, issues cards for holders and presents them in the reader the terminal watches."""

    def __init__(self, work_dir: Path, pcscd: Pcscd | None = None) -> None:
        """Runs its own pcscd on the default port, or shares `pcscd` (which it then never stops)."""
        work_dir.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki()
        self.csca_path = self.pki.write_csca(work_dir / "csca.pem")
        self.reader_name = slot_reader_name(0)
        self._owns_pcscd = pcscd is None
        self.pcscd = pcscd if pcscd is not None else Pcscd(work_dir, DEFAULT_PORT)
        self.slot = VpcdSlot(self.pcscd.port)

    def start(self) -> None:
        if not self.pcscd.running:
            self.pcscd.start()

    def stop(self) -> None:
        self.take_back()
        if self._owns_pcscd:
            self.pcscd.stop()

    def present(self, holder: CardHolder, wait: float = 10.0) -> VirtualChip:
        """Issue a genuine card to `holder`, insert it and wait until pcscd sees it."""
        chip = VirtualChip(issue_card(holder, self.pki.document_signer))
        self.insert(chip, wait)
        return chip

    def insert(self, chip: VirtualChip, wait: float = 10.0) -> None:
        self.take_back(wait)
        self.slot.insert(chip)
        self._wait_for(ReaderState.CARD_PRESENT, wait)

    def take_back(self, wait: float = 10.0) -> None:
        """Pull the card and wait until pcscd has noticed, so the next card is seen as a new one."""
        if self.slot.chip is None:
            return
        self.slot.pull()
        self._wait_for(ReaderState.NO_CARD, wait)

    def _wait_for(self, state: ReaderState, wait: float) -> None:
        reader = PcscCardReader(self.reader_name)
        deadline = time.monotonic() + wait
        while reader.status().state is not state:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pcscd did not report {state.value} in {wait} s")
            time.sleep(0.02)

    def __enter__(self) -> CardStation:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
