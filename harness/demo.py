"""`make demo` (`python -m harness.demo`): a whole virtual branch (two terminals, the district center, virtual hardware) serving voters."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import shutil
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from drivers.pcsc.reader import PcscCardReader
from firmware_app.flow.effects import Counter
from firmware_app.flow.events import ClosePollsRequested, OpenPollsRequested
from firmware_app.flow.states import PollsClosed, PollsNotOpen
from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from firmware_app.runtime.health import camera_health, reader_health
from firmware_app.store.journal import Journal
from harness.branch_script import BranchScript, DemoTerminal, Narrate
from harness.camera.booth import CameraBooth
from harness.camera.voters import write_all_cases
from harness.card.pcscd import Pcscd
from harness.card.pki import make_pki
from harness.card_desk import CardDesk
from harness.district import VirtualDistrict
from harness.invariants import violations
from harness.panel import OperatorPanel
from harness.terminal import TerminalPlan, VirtualTerminal
from protocol import logs

log = logging.getLogger("demo")

DISTRICT = "D01"
BRANCH = "B-0101"
CLOSING_AFTER = timedelta(hours=11)
EXTENSION = timedelta(hours=2)


@dataclass(frozen=True)
class DemoReport:
    issued: int
    duplicates_refused: int
    ineligible: int
    rejected_documents: int
    operator_rejected: int
    voided: int
    reprinted: int
    face_overrides: int
    unresolved: int
    invariants_ok: bool
    violations: list[str]
    out: str


def command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.demo", description=__doc__)
    parser.add_argument("--voters", type=int, default=12, help="ordinary voters to serve (default 12)")
    parser.add_argument("--seed", type=int, default=1403, help="seed of the synthetic roll and script")
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="folder for journals, logs, slips")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    args = parser.parse_args(argv)
    if args.voters < 2:
        parser.error("--voters must be at least 2")
    out: Path = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    logs.configure(logging.INFO, filename=str(out / "demo.log"))
    report = run_demo(args.voters, args.seed, out, _quiet if args.json else print)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        _print_summary(report)
    return 0 if report.invariants_ok else 1


def run_demo(voters: int, seed: int, out: Path, narrate: Narrate, pcscd: Pcscd | None = None) -> DemoReport:
    """The whole polling day; `pcscd` is the machine's one pcscd if the caller already runs it."""
    pki = make_pki()
    district = VirtualDistrict(out / "district", DISTRICT, date.today(), voters=max(300, voters * 6), seed=seed,
                               csca_pem=pki.csca_pem())
    own_pcscd = pcscd is None
    pcscd = pcscd or Pcscd(_folder(out / "pcscd"))
    matcher = FaceMatcher()
    faces = write_all_cases(out / "faces", matcher.models)
    district.start()
    if not pcscd.running:
        pcscd.start()
    terminals: list[DemoTerminal] = []
    opening = datetime.now(UTC)
    try:
        for number in (1, 2):
            name = f"T-0101-{number}"
            installation = district.provision(name, BRANCH, out / name / "provisioning")
            desk = CardDesk(pcscd, pki, slot=number - 1)
            pcsc = PcscCardReader(desk.reader_name, True)
            reader = CardDocumentReader(pcsc, TrustAnchors.load(installation.csca_path))
            booth, panel = CameraBooth(), OperatorPanel()
            plan = TerminalPlan(installation, out / name, district.broker.address, serial_printer="generic-80",
                                opens_at=opening, closes_at=opening + CLOSING_AFTER)
            terminal = VirtualTerminal(plan, card_reader=reader, echo=_operator_log(name),
                                       face_check=CameraFaceCheck(booth, matcher), buttons=panel.buttons,
                                       indicators=panel.indicators,
                                       health_checks=[reader_health(reader), camera_health(booth)])
            terminal.start()
            terminals.append(DemoTerminal(terminal, desk, booth, panel))
        _open_polls(terminals, narrate)
        BranchScript(district, terminals, faces, seed, narrate).run(voters)
        _close_polls(district, terminals, narrate)
    finally:
        for demo_terminal in terminals:
            demo_terminal.desk.take_back()
            demo_terminal.terminal.stop()
            demo_terminal.booth.close()
            demo_terminal.panel.close()
        if own_pcscd:
            pcscd.stop()
        district.stop()
    return _report(district, terminals, out)


def _operator_log(terminal: str) -> Narrate:
    def show(text: str) -> None:
        log.info("[%s] %s", terminal, text)

    return show


def _quiet(_line: str) -> None:
    return None


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open_polls(terminals: list[DemoTerminal], say: Narrate) -> None:
    for demo_terminal in terminals:
        terminal = demo_terminal.terminal
        terminal.wait_for(PollsNotOpen)
        refusal = terminal.act(OpenPollsRequested(terminal.runtime.settings.opens_at - timedelta(hours=1))).refusal
        say(f"{demo_terminal.name}: asking to open an hour before the set time is refused ({refusal})")
        terminal.open_polls()
        warnings = [m for m in terminal.display.messages if "هشدار" in m]
        say(f"{demo_terminal.name}: self-test passed, zero report printed, the center acknowledged: polls open"
            + (f" ({len(warnings)} warning)" if warnings else ""))


def _close_polls(district: VirtualDistrict, terminals: list[DemoTerminal], say: Narrate) -> None:
    first = terminals[0].terminal
    refusal = first.act(ClosePollsRequested(first.clock())).refusal
    say(f"{terminals[0].name}: closing before the closing time is refused ({refusal})")
    extended = first.runtime.closes_at + EXTENSION
    district.broadcast_extension(extended)
    for demo_terminal in terminals:
        demo_terminal.terminal.wait_until(functools.partial(_closes_at, demo_terminal.terminal, extended))
    say(f"the center broadcasts a signed extension by {EXTENSION}; both terminals accept it")
    for demo_terminal in terminals:
        demo_terminal.terminal.clock.advance(CLOSING_AFTER + EXTENSION + timedelta(minutes=1))
    say("  -- the clock reaches the extended closing time --")
    for demo_terminal in terminals:
        demo_terminal.terminal.wait_for(PollsClosed, timeout=20)
        demo_terminal.terminal.wait_until(functools.partial(_closing_report_out, demo_terminal.terminal), timeout=20)
        say(f"{demo_terminal.name}: polls closed by the terminal itself; closing report printed and sent")


def _closes_at(terminal: VirtualTerminal, until: datetime) -> bool:
    return terminal.runtime.closes_at == until


def _closing_report_out(terminal: VirtualTerminal) -> bool:
    return any("پایان رأی‌گیری (صورتجلسه) چاپ شد" in message for message in terminal.display.messages)


def _report(district: VirtualDistrict, terminals: list[DemoTerminal], out: Path) -> DemoReport:
    evidence = [t.terminal.evidence() for t in terminals]
    counts = {counter: 0 for counter in Counter}
    for demo_terminal in terminals:
        for counter, value in _counts(demo_terminal.terminal).items():
            counts[counter] += value
    registry = district.registry()
    try:
        found = violations(registry.reservations(), evidence)
    finally:
        registry.close()
    found += _privacy_violations(district, out, [t.terminal for t in terminals])
    unresolved = sum(1 for e in evidence for tx in e.transactions if tx.stage.value.endswith("pending")
                     or tx.stage.value in {"eligible", "printing", "print_failed"})
    return DemoReport(
        issued=counts[Counter.ISSUED], duplicates_refused=counts[Counter.DUPLICATES_REFUSED],
        ineligible=counts[Counter.INELIGIBLE], rejected_documents=counts[Counter.REJECTED_DOCUMENTS],
        operator_rejected=counts[Counter.OPERATOR_REJECTED], voided=counts[Counter.VOIDED],
        reprinted=counts[Counter.REPRINTED], face_overrides=counts[Counter.FACE_OVERRIDES],
        unresolved=unresolved, invariants_ok=not found,
        violations=found, out=str(out),
    )


def _counts(terminal: VirtualTerminal) -> dict[Counter, int]:
    journal = Journal(terminal.plan.work_dir / "journal.db")
    try:
        return journal.counts()
    finally:
        journal.close()


def _privacy_violations(district: VirtualDistrict, out: Path, terminals: list[VirtualTerminal]) -> list[str]:
    """No national code of the roll in any file the run left (terminal journals, the center's registry, logs,
    the broker's store) nor in any MQTT message (rule 6). Requests are in the journals' outboxes byte for
    byte; answers are checked as they came off the wire."""
    codes = {record.national_code.digits.encode() for record in district.roll}
    found = [f"a national code appears in an answer to {terminal.plan.identity.terminal}"
             for terminal in terminals for payload in terminal.answers_received
             if any(code in payload for code in codes)]
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if any(code in data for code in codes):
            found.append(f"a national code appears in {path.relative_to(out)}")
    return found


def _print_summary(report: DemoReport) -> None:
    print()
    print("Branch B-0101, two terminals, district center D01")
    rows = [("slips issued", report.issued), ("duplicates refused", report.duplicates_refused),
            ("ineligible", report.ineligible), ("documents rejected", report.rejected_documents),
            ("operator rejected", report.operator_rejected), ("voided", report.voided),
            ("reprinted", report.reprinted), ("face overrides", report.face_overrides),
            ("unresolved", report.unresolved)]
    for label, value in rows:
        print(f"  {label:<20} {value}")
    print(f"  invariants           {'OK' if report.invariants_ok else 'BROKEN'}")
    for problem in report.violations:
        print(f"    - {problem}")
    print(f"Journals, logs and printer output are in {report.out}")


if __name__ == "__main__":
    sys.exit(command(sys.argv[1:]))
