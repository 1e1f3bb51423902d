"""One virtual terminal as its own process, for kill-and-restart tests: `python -m harness.terminal_proc PLAN`."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path

from firmware_app.flow import states as st
from firmware_app.flow.events import (
    CLOSED_STAGES,
    MinutesEntered,
    OperatorConfirmed,
    OperatorRetry,
    PermitCodeTyped,
    SlipCameOut,
    SlipMissing,
)
from firmware_app.flow.offline import offline_now
from firmware_app.identity.document import Document
from hal.printer import PrintStage
from harness.election import counted
from harness.faults import KillAtPoint
from harness.terminal import TerminalPlan, VirtualTerminal
from protocol.messages import DocumentKind
from protocol.mqtt import BrokerAddress
from protocol.national_code import NationalCode
from provisioning.installed import load_installation
from provisioning.refusals import ProvisioningRefusal


@dataclass(frozen=True)
class ProcessPlan:
    """What the parent test tells the terminal process (a JSON file)."""

    work_dir: Path
    provisioning: Path
    broker_port: int
    national_code: str
    kill_at: int | None
    trace: Path | None
    fail_first_print: bool
    minutes: bool = False
    """After the voter: close the polls and have two officials enter the minutes, until the district has them."""
    permit_code: str | None = None
    """The phone code of a district permit for this terminal (published on the broker): the head of branch types it
    before the voter, who then gets an OFFLINE slip, replayed to the center until it is recorded."""

    @classmethod
    def load(cls, path: Path) -> ProcessPlan:
        data = json.loads(path.read_text())
        return cls(Path(data["work_dir"]), Path(data["provisioning"]), data["broker_port"], data["national_code"],
                   data["kill_at"], Path(data["trace"]) if data["trace"] else None, data["fail_first_print"],
                   data.get("minutes", False), data.get("permit_code"))


def _settle(terminal: VirtualTerminal, code: NationalCode, fail_first_print: bool, minutes: bool = False,
            timeout: float = 60.0, permit_code: str | None = None) -> None:
    """Play the operator until the voter is served and nothing is left open, whatever the restart found; with
    `minutes`, then the close and the minutes until the district has recorded them; with `permit_code`, the head
    of branch first activates the permit (unless the journal already has it in use)."""
    served = bool(terminal.transactions())
    figures = counted(terminal.plan.installation.election.bundle, 1)
    acted_on: st.State | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = terminal.state
        if state is acted_on:
            time.sleep(0.02)
            continue
        if permit_code is not None and isinstance(state, st.Idle) and not served and offline_now(state.day) is None:
            if state.day.permits:
                terminal.post(PermitCodeTyped("head", permit_code, terminal.clock()))
                acted_on = state
            else:
                time.sleep(0.02)  # the permit has not come from the broker yet
            continue
        match state:
            case st.PollsNotOpen():
                terminal.printer.fix()
                terminal.runtime.request_open()
            case st.Idle() if not served:
                served = True
                if fail_first_print:
                    terminal.printer.fail_next(PrintStage.DURING)
                terminal.reader.insert(Document(DocumentKind.SMART_CARD, code))
            case st.AwaitingConfirmation():
                terminal.post(OperatorConfirmed())
            case st.PrintInterrupted() | st.PrinterNotReady():
                terminal.printer.fix()
                terminal.post(OperatorRetry())
            case st.NoAnswer():
                terminal.post(OperatorRetry())
            case st.AnsweredLate():
                terminal.post(OperatorConfirmed())
            case st.RecoveryDecision(question=st.RecoveryQuestion.PRINT_OR_VOID):
                terminal.post(OperatorRetry())
            case st.RecoveryDecision(inquiry_code=inquiry_code):
                whole = any(job.complete and inquiry_code in job.qr for job in terminal.printer.jobs())
                terminal.post(SlipCameOut() if whole else SlipMissing())
            case st.Idle() if minutes and served and all(tx.stage in CLOSED_STAGES for tx in terminal.transactions()):
                terminal.clock.advance(max(terminal.runtime.closes_at - terminal.clock(), timedelta()) + timedelta(seconds=1))
                terminal.runtime.request_close()
            case st.Idle() | st.VoterRefused() if not minutes and all(
                    tx.stage in CLOSED_STAGES for tx in terminal.transactions()):
                return
            case st.PollsClosed() | st.EnteringMinutes(first=None) if minutes:
                terminal.post(MinutesEntered("head", figures))
            case st.EnteringMinutes() if minutes:
                terminal.post(MinutesEntered("operator", figures))
            case st.MinutesSent() | st.MinutesConflict() if minutes:
                return
            case _:
                time.sleep(0.02)
                continue
        acted_on = state
    raise TimeoutError(f"the terminal did not settle; it is in {type(terminal.state).__name__}")


def start_terminal(work_dir: str, provisioning: str, port: int, open_polls: bool = False) -> VirtualTerminal:
    """The terminal provisioned in `provisioning`, started on the broker's terminal port, its polls opened if told."""
    installation = load_installation(Path(provisioning), datetime.now(UTC))
    if isinstance(installation, ProvisioningRefusal):
        raise SystemExit(f"provisioning refused: {installation}")
    terminal = VirtualTerminal(TerminalPlan(installation, Path(work_dir), BrokerAddress("127.0.0.1", port)))
    terminal.start()
    if open_polls:
        terminal.wait_for(st.PollsNotOpen, timeout=60)
        terminal.runtime.request_open()
        terminal.wait_for(st.Idle, timeout=60)
    return terminal


def run_until_killed(work_dir: str, provisioning: str, port: int, ready: Event, open_polls: bool = False) -> None:
    """A terminal process (a multiprocessing target) that starts, says it is ready and runs until it is killed:
    the broker then sends its will, as for a terminal whose power is cut."""
    start_terminal(work_dir, provisioning, port, open_polls)
    ready.set()
    threading.Event().wait()


def main() -> None:
    plan = ProcessPlan.load(Path(sys.argv[1]))
    installation = load_installation(plan.provisioning, datetime.now(UTC))
    if isinstance(installation, ProvisioningRefusal):
        raise SystemExit(f"provisioning refused: {installation}")
    terminal_plan = TerminalPlan(installation, plan.work_dir, BrokerAddress("127.0.0.1", plan.broker_port))
    faults = KillAtPoint(plan.kill_at, plan.trace)
    terminal = VirtualTerminal(terminal_plan, faults=faults)
    terminal.start()
    try:
        _settle(terminal, NationalCode(plan.national_code), plan.fail_first_print, plan.minutes,
                permit_code=plan.permit_code)
        faults.wait_quiet()  # the last step's effects all done, so that each run of a plan ends at the same point
    finally:
        terminal.stop()


if __name__ == "__main__":
    main()
