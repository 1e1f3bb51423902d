"""One worker process of the center: its own MQTT sessions and registry pool, reporting to its supervisor."""

from __future__ import annotations

import ctypes
import enum
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

from joserfc.jwk import OKPKey

from center.config import CenterConfig, worker_name
from center.enrolled import EnrolledTerminals
from center.service import CenterService
from center.worker_cpu import WIDTH, StageTotals, total
from protocol import logs

log = logging.getLogger(__name__)

REPORT_SECONDS = 0.1
"""How often a worker process writes its report (heartbeat, counters, CPU) into its slot."""
_PR_SET_PDEATHSIG = 1


class Field(enum.IntEnum):
    """The report's fields at the head of a slot, before the StageTotals values."""

    HEARTBEAT_NS = 0
    """time.monotonic_ns() of the last report written while every worker loop lived (0: not yet serving)."""
    PID = 1
    CONNECTED = 2
    ANSWERED = 3
    DROPPED = 4
    FAULTS = 5
    PROCESS_CPU_NS = 6
    """The whole process's CPU (user and system, every thread: MQTT, TLS, JSON, the responders)."""


SLOT_SIZE = len(Field) + WIDTH
"""Integers in one worker process's slot (a shared-memory array its supervisor reads)."""
Slot = ctypes.Array[ctypes.c_int64]


@dataclass(frozen=True)
class WorkerProcessSpec:
    """What a worker process needs, all of it picklable: the config, which process it is (from 1), the center's
    private keys as PEM, the national voter key (None: derived from the sealing key) and its supervisor's pid."""

    config: CenterConfig
    number: int
    signing_key_pem: bytes
    sealing_key_pem: bytes
    voter_key: bytes | None
    supervisor_pid: int

    @property
    def first_worker(self) -> int:
        return (self.number - 1) * self.config.workers + 1

    @property
    def worker_names(self) -> tuple[str, ...]:
        first = self.first_worker
        return tuple(worker_name(self.config.instance, i) for i in range(first, first + self.config.workers))


@dataclass(frozen=True)
class WorkerReport:
    """What a worker process last wrote into its slot."""

    pid: int
    heartbeat_ns: int
    connected: int
    answered: int
    dropped: int
    faults: int
    process_cpu_ns: int
    cpu: StageTotals

    @classmethod
    def read(cls, slot: Slot) -> WorkerReport:
        values = list(slot)
        head = values[:len(Field)]
        return cls(head[Field.PID], head[Field.HEARTBEAT_NS], head[Field.CONNECTED], head[Field.ANSWERED],
                   head[Field.DROPPED], head[Field.FAULTS], head[Field.PROCESS_CPU_NS],
                   StageTotals.from_values(values[len(Field):]))


def run(spec: WorkerProcessSpec, slot: Slot) -> None:
    """The worker process's whole life (a multiprocessing target): serve until SIGTERM, or until its supervisor is
    gone; exit 1 when a worker loop has died, so that the supervisor starts it again."""
    _die_with_supervisor()
    logs.configure(logging.INFO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C reaches the whole group: the supervisor stops us
    slot[Field.PID] = os.getpid()
    service = CenterService(
        spec.config, OKPKey.import_key(spec.signing_key_pem), OKPKey.import_key(spec.sealing_key_pem),
        enrolled=EnrolledTerminals(spec.config.enrolment_ca) if spec.config.enrolment_ca is not None else {},
        voter_key=spec.voter_key, first_worker=spec.first_worker,
    )
    try:
        service.start()
    except Exception:  # a registry that cannot be opened, a certificate that does not load: start again later
        log.critical("worker process %d could not start", spec.number, exc_info=True)
        service.stop()
        sys.exit(1)
    code = 0
    try:
        log.info("worker process %d (pid %d) serving as %s", spec.number, os.getpid(), ", ".join(spec.worker_names))
        while not stop.wait(REPORT_SECONDS):
            if os.getppid() != spec.supervisor_pid:
                log.error("worker process %d: its supervisor is gone; stopping", spec.number)
                break
            if not service.alive():
                log.critical("worker process %d: a worker loop has died; ending the process so that the "
                             "supervisor starts it again", spec.number)
                code = 1
                break
            _report(slot, service, serving=True)
    finally:
        _report(slot, service, serving=False)
        service.stop()
    sys.exit(code)


def _report(slot: Slot, service: CenterService, *, serving: bool) -> None:
    status = service.status()
    if serving:
        slot[Field.HEARTBEAT_NS] = time.monotonic_ns()
    slot[Field.CONNECTED] = status.connected_workers
    slot[Field.ANSWERED] = sum(worker.answered for worker in status.workers)
    slot[Field.DROPPED] = sum(worker.dropped for worker in status.workers)
    slot[Field.FAULTS] = sum(worker.faults for worker in status.workers)
    slot[Field.PROCESS_CPU_NS] = time.process_time_ns()
    slot[len(Field):] = list(total(worker.cpu for worker in status.workers).values)


def _die_with_supervisor() -> None:
    """Ask Linux to kill this process when the supervisor's thread that started it ends (a supervisor killed with
    SIGKILL must not leave workers holding the client ids its successor's workers take)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d): a killed supervisor may leave this worker "
                    "until it notices", ctypes.get_errno())
