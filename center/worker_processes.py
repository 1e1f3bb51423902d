"""The center's worker processes: start them, start again one that dies or hangs (logged), stop them all."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import TracebackType

from center.config import CenterConfig
from center.voter_key import national_voter_key
from center.worker_cpu import StageTotals
from center.worker_process import SLOT_SIZE, Slot, WorkerProcessSpec, WorkerReport, run

log = logging.getLogger(__name__)

FIRST_RESTART_DELAY_S = 0.5
"""A worker process that ended soon after it started is started again after this, then twice as long each time."""
MAX_RESTART_DELAY_S = 30.0
STEADY_S = 10.0
"""A worker process that lived this long is started again at once (its delay starts over)."""
HUNG_S = 20.0
"""A worker process whose report is older than this is killed (and so started again)."""
STARTUP_GRACE_S = 60.0
"""Time a new worker process has to write its first report (imports, the registry pool, the sessions)."""
STOP_S = 10.0
"""Time each worker process has to stop after SIGTERM before it is killed."""
_WATCH_S = 0.2


@dataclass(frozen=True)
class WorkersStatus:
    """The worker processes together: those running now, how often one was started again, and the work done
    (counters and CPU of every process that ran, including those that ended)."""

    running: int
    restarts: int
    connected_workers: int
    answered: int
    dropped: int
    faults: int
    process_cpu_ns: int
    """User and system CPU of the worker processes, every thread (MQTT, TLS, JSON, the responders)."""
    cpu: StageTotals
    """The responders' own CPU by request kind and stage (center.worker_cpu)."""
    pids: tuple[int, ...]
    answered_by_process: tuple[int, ...]
    """Answers given by each worker process (by its number), including its earlier lives."""


class _Child:
    """One place among the worker processes: its number, its shared-memory slot and its current process."""

    def __init__(self, number: int, slot: Slot) -> None:
        self.number = number
        self.slot = slot
        self.process: BaseProcess | None = None
        self.started_at = 0.0
        self.restart_at = 0.0
        self.delay = FIRST_RESTART_DELAY_S
        self.retired = WorkerReport(0, 0, 0, 0, 0, 0, 0, StageTotals.empty())

    def report(self) -> WorkerReport:
        return WorkerReport.read(self.slot)


class WorkerProcesses:
    """`config.worker_processes` processes behind the district's shared subscription, each `config.workers`
    MQTT sessions (with their own names and certificates) and a registry pool of its own (center.worker_process).

    One supervising thread starts every process, watches them (exit, or a report older than HUNG_S) and starts
    again one that ended; at `stop` it sends each SIGTERM and waits. The processes die with that thread (Linux
    PR_SET_PDEATHSIG), so a supervisor killed outright leaves no worker holding a client id."""

    def __init__(self, config: CenterConfig, signing_key_pem: bytes, sealing_key_pem: bytes,
                 voter_key: bytes | None = None) -> None:
        """`voter_key`: the national voter key; None: each process derives it from the sealing key."""
        self._config = config
        self._context = multiprocessing.get_context("spawn")
        self._specs = [WorkerProcessSpec(config, number, signing_key_pem, sealing_key_pem, voter_key, os.getpid())
                       for number in range(1, config.worker_processes + 1)]
        self._children = [_Child(spec.number, self._context.RawArray(ctypes.c_int64, SLOT_SIZE))
                          for spec in self._specs]
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._restarts = 0
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, config: CenterConfig) -> WorkerProcesses:
        """The center's private keys and voter key from the files the config names."""
        if config.enrolment_ca is None:
            log.warning("no enrolment folder configured: no terminal is known and every request will be dropped")
        voter_key = None if config.voter_key is None else national_voter_key(config.voter_key)
        return cls(config, config.signing_key.read_bytes(), config.sealing_key.read_bytes(), voter_key)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="center-worker-supervisor", daemon=True)
        self._thread.start()
        self._started.wait()

    def alive(self) -> bool:
        """True while the supervising thread runs (it starts again any worker process that ends)."""
        return self._thread is not None and self._thread.is_alive() and not self._stopping.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """True once every worker of every process is connected and has its subscription."""
        deadline = time.monotonic() + timeout
        expected = self._config.worker_processes * self._config.workers
        while time.monotonic() < deadline:
            if self.status().connected_workers == expected:
                return True
            time.sleep(0.05)
        return False

    def pids(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(c.process.pid for c in self._children if c.process is not None and c.process.pid)

    def status(self) -> WorkersStatus:
        with self._lock:
            running = [c for c in self._children if c.process is not None and c.process.is_alive()]
            reports = [c.report() for c in self._children]
            retired = [c.retired for c in self._children]
            restarts = self._restarts
        done = reports + retired
        cpu = StageTotals.empty()
        for report in done:
            cpu = cpu + report.cpu
        return WorkersStatus(
            running=len(running), restarts=restarts,
            connected_workers=sum(report.connected for report in reports),
            answered=sum(r.answered for r in done), dropped=sum(r.dropped for r in done),
            faults=sum(r.faults for r in done), process_cpu_ns=sum(r.process_cpu_ns for r in done), cpu=cpu,
            pids=tuple(c.process.pid for c in running if c.process is not None and c.process.pid),
            answered_by_process=tuple(now.answered + before.answered
                                      for now, before in zip(reports, retired, strict=True)),
        )

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _watch(self) -> None:
        """The supervising thread: every process is started, and stopped, from here (see PR_SET_PDEATHSIG)."""
        try:
            for child in self._children:
                self._spawn(child)
        finally:
            self._started.set()
        try:
            while not self._stopping.is_set():
                sentinels = [c.process.sentinel for c in self._children if c.process is not None]
                multiprocessing.connection.wait(sentinels, timeout=_WATCH_S)
                for child in self._children:
                    self._tend(child)
        finally:
            self._stop_all()

    def _tend(self, child: _Child) -> None:
        now = time.monotonic()
        process = child.process
        if process is None:
            if now >= child.restart_at and not self._stopping.is_set():
                self._spawn(child)
                with self._lock:
                    self._restarts += 1
            return
        if not process.is_alive():
            self._ended(child, process, now)
            return
        report = child.report()
        if report.heartbeat_ns:
            silent = (time.monotonic_ns() - report.heartbeat_ns) / 1e9
            if silent > HUNG_S:
                log.error("worker process %d (pid %s) silent for %.0f s; killing it", child.number, process.pid, silent)
                process.kill()
        elif now - child.started_at > STARTUP_GRACE_S:
            log.error("worker process %d (pid %s) did not start serving in %.0f s; killing it", child.number,
                      process.pid, STARTUP_GRACE_S)
            process.kill()

    def _ended(self, child: _Child, process: BaseProcess, now: float) -> None:
        lived = now - child.started_at
        if lived >= STEADY_S:
            child.delay = FIRST_RESTART_DELAY_S
            wait = 0.0
        else:
            wait = child.delay
            child.delay = min(child.delay * 2, MAX_RESTART_DELAY_S)
        if process.exitcode == 0:  # it was asked to stop (SIGTERM to the whole group): is the supervisor stopping?
            wait = max(wait, FIRST_RESTART_DELAY_S)
        log.error("worker process %d (pid %s) ended with exit code %s after %.1f s; starting it again in %.1f s",
                  child.number, process.pid, process.exitcode, lived, wait)
        with self._lock:
            child.retired = _summed(child.retired, child.report())
            child.slot[:] = [0] * SLOT_SIZE
            child.process = None
        process.close()
        child.restart_at = now + wait

    def _spawn(self, child: _Child) -> None:
        spec = self._specs[child.number - 1]
        process = self._context.Process(target=run, args=(spec, child.slot), name=f"center-worker-{child.number}",
                                        daemon=True)
        process.start()
        child.started_at = time.monotonic()
        with self._lock:
            child.process = process
        log.info("worker process %d started (pid %s)", child.number, process.pid)

    def _stop_all(self) -> None:
        running = [c.process for c in self._children if c.process is not None and c.process.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_S
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker process pid %s did not stop in %.0f s; killing it", process.pid, STOP_S)
                process.kill()
                process.join()

    def __enter__(self) -> WorkerProcesses:
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


def _summed(before: WorkerReport, last: WorkerReport) -> WorkerReport:
    return WorkerReport(0, 0, 0, before.answered + last.answered, before.dropped + last.dropped,
                        before.faults + last.faults, before.process_cpu_ns + last.process_cpu_ns,
                        before.cpu + last.cpu)
