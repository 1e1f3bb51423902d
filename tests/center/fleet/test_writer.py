"""The intake's writer: saves kept in order and in batches, a failing or raising store counted and outlived, a full
queue counted, `flush` and `stop` keeping what was queued before them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from center.fleet.model import TerminalRecord
from center.fleet.store import FleetStoreError, Save
from center.fleet.writer import IntakeWriter

NOW = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)


def save_of(index: int) -> Save:
    return Save(TerminalRecord(f"T-{index}", "B-1", "d-1"), None, NOW)


class Store:
    """Records each batch it is handed; fails (FleetStoreError, or a bug's RuntimeError) while told to, and can
    hold the writer inside a save until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.failing: type[Exception] | None = None
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def save(self, saves: Sequence[Save]) -> None:
        self.entered.set()
        assert self.release.wait(10), "the test never released the store"
        if self.failing is not None:
            raise self.failing("the store is down")
        self.batches.append([save.record.terminal for save in saves])

    def kept(self) -> list[str]:
        return [terminal for batch in self.batches for terminal in batch]


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def writer(store: Store) -> Iterator[IntakeWriter]:
    writer = IntakeWriter(store.save, batch=4, gather_s=0.05, queue=10)
    writer.start()
    yield writer
    writer.stop()


def test_saves_are_kept_in_order_in_batches_of_at_most_the_batch_size(store: Store, writer: IntakeWriter) -> None:
    store.release.clear()
    assert writer.put(save_of(0))
    assert store.entered.wait(5), "the writer did not take the first save"
    for index in range(1, 10):
        assert writer.put(save_of(index))
    store.release.set()
    assert writer.flush(5)
    assert store.kept() == [f"T-{i}" for i in range(10)]
    assert max(len(batch) for batch in store.batches) == 4
    assert len(store.batches) < 10, f"the saves queued behind the first were kept together: {store.batches}"
    assert writer.unsaved == 0


@pytest.mark.parametrize("failure", [FleetStoreError, RuntimeError])
def test_a_failing_store_is_counted_unsaved_and_the_writer_keeps_the_next_saves(
        store: Store, writer: IntakeWriter, failure: type[Exception]) -> None:
    store.failing = failure
    for index in range(3):
        writer.put(save_of(index))
    assert writer.flush(5)
    assert writer.unsaved == 3 and store.kept() == []
    store.failing = None
    writer.put(save_of(3))
    assert writer.flush(5)
    assert writer.alive() and store.kept() == ["T-3"] and writer.unsaved == 3


def test_saves_beyond_the_queue_are_dropped_and_counted(store: Store, writer: IntakeWriter) -> None:
    store.release.clear()
    writer.put(save_of(0))
    assert store.entered.wait(5)
    accepted = [writer.put(save_of(index)) for index in range(1, 14)]
    assert accepted == [True] * 10 + [False] * 3
    assert writer.unsaved == 3
    store.release.set()
    assert writer.flush(5)
    assert store.kept() == [f"T-{i}" for i in range(11)]


def test_flush_times_out_while_the_store_is_stuck_and_stop_keeps_what_was_queued(store: Store) -> None:
    writer = IntakeWriter(store.save, batch=4, gather_s=5.0, queue=100)
    writer.start()
    store.release.clear()
    writer.put(save_of(0))
    writer.put(save_of(1))
    assert not writer.flush(0.2), "flush returned before the saves were kept"
    for index in range(2, 7):
        writer.put(save_of(index))
    store.release.set()
    writer.stop()
    assert not writer.alive()
    assert store.kept() == [f"T-{i}" for i in range(7)]
    assert not writer.put(save_of(7)) and writer.unsaved == 1, "a save after the stop is counted, not queued"
