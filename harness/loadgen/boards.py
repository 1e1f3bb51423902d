"""The simulated terminals' boards: a driver's health reports composed and signed in a process of its own.

A real terminal composes and signs its report on its own board; 2,000 of them never take a core of the center's
host. Here they share the host, so their stand-in runs in a process under SCHED_IDLE: it takes only CPU that the
center, the broker, the database and the drivers leave, and it never stalls a driver's loop (which would delay the
answers that loop measures). How late each report went out after it fell due is counted, so a starved stand-in
shows in the figures rather than hiding.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from queue import Empty

from center.fleet.priority import yield_to_voters
from harness.loadgen.telemetry import ReportOrder, signed_report
from harness.loadgen.terminal import load_installations

_START_S = 60.0
_ORPHAN_CHECK_S = 1.0


@dataclass(frozen=True)
class Signed:
    """One signed report back from the boards, for the driver to publish on its terminal's connection."""

    index: int
    payload: bytes
    due: float
    change: bool


@dataclass(frozen=True)
class BoardsDone:
    """The boards' last word: their process's CPU from the first report they were asked for."""

    cpu_s: float


class Boards:
    """The boards' process of one driver; `ask` hands it a report to sign (never blocks), `results` is the
    connection the signed reports come back on (its `fileno` goes in the driver's selector)."""

    def __init__(self, folders: Sequence[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._orders: Queue[ReportOrder | None] = context.Queue()
        self.results, sending = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(target=serve, args=(tuple(folders), self._orders, sending),
                                                     name="loadgen-boards", daemon=True)
        self._process.start()
        sending.close()
        if not self.results.poll(_START_S) or self.results.recv() != "ready":
            raise RuntimeError("the simulated boards' process did not start")

    def ask(self, order: ReportOrder) -> None:
        self._orders.put(order)

    def stop(self) -> None:
        """Ask the process to finish what it was asked for, then to say its CPU and end."""
        self._orders.put(None)

    def take(self) -> list[Signed | BoardsDone]:
        """What has come back so far (without waiting)."""
        found: list[Signed | BoardsDone] = []
        while self.results.poll():
            try:
                found.append(self.results.recv())
            except EOFError:
                break
        return found

    def join(self) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


def serve(folders: tuple[str, ...], orders: Queue[ReportOrder | None], results: Connection) -> None:
    """The boards' process (multiprocessing target): under SCHED_IDLE, sign each order in turn and send it back;
    on None, send BoardsDone and end; and end if its driver is gone."""
    driver = os.getppid()
    yield_to_voters(0, idle=True)
    installations = load_installations(folders)
    results.send("ready")
    cpu: float | None = None
    while True:
        try:
            order = orders.get(timeout=_ORPHAN_CHECK_S)
        except Empty:
            if os.getppid() != driver:
                return
            continue
        if order is None:
            break
        if cpu is None:
            cpu = time.process_time()
        results.send(Signed(order.index, signed_report(order, installations[order.index]), order.due, order.change))
    results.send(BoardsDone(0.0 if cpu is None else time.process_time() - cpu))
    results.close()
