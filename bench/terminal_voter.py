"""Terminal-side processing per voter, excluding devices and the network: flow, journal (fsync), sealing, verifying.

The runtime, its SQLite journal (WAL, synchronous=FULL), the slip composition (Persian raster text) and the
answer checks run for real; the center's responder answers in-process and its own time is measured and
subtracted; the printer returns at once; the document has no photo, so no face check runs.
Prints medians of several runs; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from joserfc.jwk import OKPKey

from center.eligibility import VoterStatus
from center.enrolled import EnrolledTerminal
from center.rate_limit import UNLIMITED
from center.registry import Registry
from center.responder import Reply, Responder
from center.synthetic_roll import RollShares, generate_roll
from center.voter_key import registry_key
from firmware_app.assembly import JOURNAL_FILE, assemble
from firmware_app.flow import states as st
from firmware_app.flow.events import DeadlineKind, DocumentPresented, OperatorConfirmed
from firmware_app.identity.document import Document
from firmware_app.link import LinkReceiver
from firmware_app.runtime.ports import Devices
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from hal.printer import PrintDocument, Printed, PrinterState, PrinterStatus, PrintResult
from harness.fakes import RecordingDisplay
from protocol.messages import DocumentKind
from protocol.seal import generate_sealing_key, generate_signing_key, public_part
from protocol.topics import request_topic

VOTERS = 150
RUNS = 3
IDENTITY = TerminalIdentity("T-0101-1", "B-0101", "D01")


class InstantPrinter:
    def status(self) -> PrinterStatus:
        return PrinterStatus(PrinterState.READY)

    def print_document(self, document: PrintDocument) -> PrintResult:
        return Printed(self.status())

    def close(self) -> None:
        return None


class InProcessCenter:
    """The terminal's link: the real responder behind a function call; remembers how long it took so it can be
    subtracted."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.receiver: LinkReceiver | None = None
        self.spent = 0.0
        self.connected = True

    def start(self, receiver: LinkReceiver) -> None:
        self.receiver = receiver

    def wait_connected(self, timeout: float) -> bool:
        return True

    def stop(self) -> None:
        self.receiver = None

    def tell_peers(self, permit_id: str, sequence: int, payload: bytes) -> bool:
        """The bench's terminal is never offline under a permit."""
        return False

    def publish_request(self, payload: bytes) -> bool:
        started = time.perf_counter()
        reply = self.responder.handle(request_topic(IDENTITY.district, IDENTITY.terminal), payload)
        self.spent += time.perf_counter() - started
        assert isinstance(reply, Reply) and self.receiver is not None
        self.receiver.answer_arrived(reply.payload)
        return True


def _enrolment(terminal_key: OKPKey) -> EnrolledTerminal:
    return EnrolledTerminal(IDENTITY.terminal, IDENTITY.branch, IDENTITY.district, "E-bench", public_part(terminal_key))


def one_run(work: Path) -> list[float]:
    day = date.today()
    roll = [r for r in generate_roll(VOTERS * 2, 11, day, RollShares(0, 0, 0)) if r.status is VoterStatus.ELIGIBLE]
    signing, sealing = generate_signing_key(), generate_sealing_key()
    registry = Registry(work / "registry.db", day, voter_key=registry_key(sealing))
    registry.load_roll(roll)
    terminal_key = generate_signing_key()
    center = InProcessCenter(Responder(registry, IDENTITY.district, signing, sealing,
                                       enrolled={IDENTITY.terminal: _enrolment(terminal_key)},
                                       rate_limit=UNLIMITED, answer_quota=10**9))
    now = datetime.now(UTC)
    settings = RuntimeSettings(IDENTITY, False, public_part(signing), public_part(sealing), terminal_key, b"k" * 32,
                               "bench", "0" * 64, "0" * 64, now - timedelta(hours=1), now + timedelta(hours=12),
                               dict.fromkeys(DeadlineKind, 30.0))
    settled = threading.Event()
    terminal = assemble(settings, work / JOURNAL_FILE, Devices(InstantPrinter()), RecordingDisplay(), center,
                        lambda: datetime.now(UTC))
    runtime = terminal.runtime
    runtime.add_listener(lambda _b, _e, step: settled.set() if isinstance(step.state, st.Idle) else None)
    terminal.start()
    runtime.request_open()
    settled.wait(10)
    timings = []
    for index, record in enumerate(roll[:VOTERS]):
        settled.clear()
        spent_before = center.spent
        started = time.perf_counter()
        runtime.post(DocumentPresented(f"{index:032x}", Document(DocumentKind.SMART_CARD, record.national_code)))
        runtime.post(OperatorConfirmed())
        if not settled.wait(10):
            raise RuntimeError(f"voter {index} did not settle: {type(runtime.state).__name__}")
        timings.append(time.perf_counter() - started - (center.spent - spent_before))
    terminal.stop()
    registry.close()
    return timings


def main() -> None:
    medians, p95s = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as folder:
            timings = one_run(Path(folder))
        medians.append(statistics.median(timings))
        p95s.append(statistics.quantiles(timings, n=20)[-1])
    print(f"terminal-side processing per voter ({VOTERS} voters x {RUNS} runs, journal fsync on, devices and "
          "network excluded)")
    print(f"  median of run medians: {statistics.median(medians) * 1000:.2f} ms "
          f"(runs: {', '.join(f'{m * 1000:.2f}' for m in medians)})")
    print(f"  median of run p95s:    {statistics.median(p95s) * 1000:.2f} ms")
    print(f"  python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
