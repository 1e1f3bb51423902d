"""Card and reader events through pcscd, including pcscd stopping and coming back under a running monitor."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Generic, TypeVar

import pytest

from drivers.pcsc.monitor import ReaderMonitor
from drivers.pcsc.reader import PcscCardReader
from firmware_app.identity.document import CardEvent, Document
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from hal.card_reader import LinkError, LinkProblem, ReaderEvent, ReaderState
from harness.card.holder import CardHolder
from harness.card.pcscd import Pcscd, slot_reader_name
from harness.card.pki import CardPki
from harness.card.station import CardStation
from harness.card.vpcd import VpcdSlot
from tests.card.conftest import wait_for
from tests.card.scenarios import make_chip

pytestmark = pytest.mark.real_peer
T = TypeVar("T")


class Recorder(Generic[T]):
    """Events posted from the monitor thread, in order."""

    def __init__(self) -> None:
        self.events: list[T] = []
        self._lock = threading.Lock()

    def __call__(self, event: T) -> None:
        with self._lock:
            self.events.append(event)

    def wait_for(self, *expected: T) -> None:
        """Wait until `expected` has been posted, in this order, after what was already checked."""
        wait_for(lambda: self._head(len(expected)) == list(expected), f"events {expected}, got {self.events}")
        with self._lock:
            self.events.clear()

    def _head(self, count: int) -> list[T]:
        with self._lock:
            return self.events[:count] if len(self.events) >= count else []


def test_inserting_and_pulling_the_card_posts_inserted_then_removed(
    slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    recorder = Recorder[CardEvent]()
    reader = CardDocumentReader(pcsc_reader, anchors)
    reader.start(recorder)
    try:
        for _ in range(2):
            slot.insert(make_chip(holder, pki))
            recorder.wait_for(CardEvent.INSERTED)
            slot.pull()
            recorder.wait_for(CardEvent.REMOVED)
    finally:
        reader.close()
    assert recorder.events == [], f"unexpected events {recorder.events}"


def test_monitor_survives_pcscd_stopping_and_recovers_when_it_returns(
    pcscd: Pcscd, slot: VpcdSlot, pcsc_reader: PcscCardReader, anchors: TrustAnchors, holder: CardHolder, pki: CardPki
) -> None:
    raw = Recorder[ReaderEvent]()
    monitor = ReaderMonitor(raw, slot_reader_name(0))
    monitor.start()
    flow = Recorder[CardEvent]()
    reader = CardDocumentReader(pcsc_reader, anchors)
    reader.start(flow)
    try:
        slot.insert(make_chip(holder, pki))
        raw.wait_for(ReaderEvent.CARD_INSERTED)
        flow.wait_for(CardEvent.INSERTED)

        pcscd.stop()
        raw.wait_for(ReaderEvent.CARD_REMOVED, ReaderEvent.READER_GONE, ReaderEvent.SERVICE_GONE)
        flow.wait_for(CardEvent.REMOVED, CardEvent.READER_GONE)
        assert pcsc_reader.status().state is ReaderState.NO_SERVICE
        assert monitor.snapshot().service_up is False

        pcscd.start()
        raw.wait_for(ReaderEvent.SERVICE_BACK, ReaderEvent.READER_BACK, ReaderEvent.CARD_INSERTED)
        flow.wait_for(CardEvent.READER_BACK, CardEvent.INSERTED)
        result = reader.read()
        assert isinstance(result, Document), f"card unreadable after pcscd came back: {result}"
        assert result.national_code.digits == holder.national_code
    finally:
        reader.close()
        monitor.stop()
        if not pcscd.running:
            pcscd.start()


def test_status_says_no_service_while_pcscd_is_down(pcscd: Pcscd, pcsc_reader: PcscCardReader) -> None:
    assert pcsc_reader.status().state is ReaderState.NO_CARD
    pcscd.stop()
    try:
        assert pcsc_reader.status().state is ReaderState.NO_SERVICE
        session = pcsc_reader.connect()
        assert isinstance(session, LinkError), "connected without pcscd"
        assert session.problem is LinkProblem.NO_SERVICE
    finally:
        pcscd.start()
    assert pcsc_reader.status().state is ReaderState.NO_CARD
    assert PcscCardReader("no such reader").status().state is ReaderState.NO_READER


def test_card_station_presents_a_genuine_card_and_takes_it_back(
    pcscd: Pcscd, slot: VpcdSlot, holder: CardHolder, tmp_path: Path
) -> None:
    with CardStation(tmp_path, pcscd) as station:
        station.present(holder)
        reader = PcscCardReader(station.reader_name)
        result = CardDocumentReader(reader, TrustAnchors.load(station.csca_path)).read()
        assert isinstance(result, Document), f"refused: {result}"
        station.take_back()
        assert reader.status().state is ReaderState.NO_CARD
    assert pcscd.running, "a station sharing pcscd must not stop it"
