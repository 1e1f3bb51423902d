"""Card fixtures: one real pcscd for the session with our vpcd reader, a test PKI, a synthetic holder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.pcsc.reader import PcscCardReader
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import ReaderState
from harness.card.holder import CardHolder, synthetic_holder
from harness.card.pcscd import Pcscd, slot_reader_name
from harness.card.pki import CardPki, make_pki
from harness.card.vpcd import VpcdSlot


@pytest.fixture(scope="session")
def pki() -> CardPki:
    return make_pki()


@pytest.fixture(scope="session")
def anchors(pki: CardPki, tmp_path_factory: pytest.TempPathFactory) -> TrustAnchors:
    return TrustAnchors.load(pki.write_csca(tmp_path_factory.mktemp("trust") / "csca.pem"))


@pytest.fixture(scope="session")
def holder() -> CardHolder:
    return synthetic_holder(7)


@pytest.fixture
def slot(pcscd: Pcscd) -> Iterator[VpcdSlot]:
    """vpcd's slot 0, empty at the start and pulled at the end of each test."""
    if not pcscd.running:
        pcscd.start()
    vpcd_slot = VpcdSlot(pcscd.port)
    yield vpcd_slot
    vpcd_slot.pull()
    wait_for(lambda: PcscCardReader(slot_reader_name(0)).status().state is ReaderState.NO_CARD, "card gone")


@pytest.fixture
def pcsc_reader() -> PcscCardReader:
    return PcscCardReader(slot_reader_name(0))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail with `what` if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
