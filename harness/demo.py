"""`make demo` (`python -m harness.demo`, `kiosk demo`): a whole virtual branch (two terminals with their operator
screens, the district center, virtual hardware) serving voters; with `--serve` it stays up to be driven by hand."""

from __future__ import annotations

import argparse
import enum
import functools
import json
import logging
import secrets
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from center.dashboard.reconcile_view import reconcile_view
from center.fleet.rules import IRAN, Condition
from center.storage import PostgresSettings
from drivers.pcsc.reader import PcscCardReader
from firmware_app.flow.effects import Counter
from firmware_app.flow.events import ClosePollsRequested, OpenPollsRequested
from firmware_app.flow.states import (
    PollsClosed,
    PollsNotOpen,
)
from firmware_app.identity.face import FaceMatcher
from firmware_app.identity.live_check import CameraFaceCheck
from firmware_app.identity.smart_card import CardDocumentReader
from firmware_app.identity.trust import TrustAnchors
from firmware_app.runtime.health import camera_health, reader_health
from firmware_app.version import software_hash
from harness.branch_script import BranchScript, DemoTerminal, Narrate
from harness.camera.booth import CameraBooth
from harness.camera.voters import WrittenCase, write_all_cases
from harness.card.pcscd import Pcscd
from harness.card.pki import make_pki
from harness.card_desk import CardDesk, HandDesk, Vpcd
from harness.dashboard import DashboardPlan, DistrictDashboard
from harness.demo_minutes import DistrictMinutes, branch_minutes, district_minutes, minutes_lines, own_journal
from harness.demo_outage import Outage, OutageReport
from harness.district import VirtualDistrict
from harness.invariants import violations
from harness.lost_terminal import LostTerminal
from harness.panel import OperatorPanel
from harness.postgres import PostgresCluster
from harness.terminal import TerminalPlan, VirtualTerminal
from protocol import logs
from protocol.telemetry import PollsState
from provisioning.pins import PINS_FILE, Role, set_pin

log = logging.getLogger("demo")

DISTRICT = "D01"
BRANCH = "B-0101"
CLOSING_AFTER = timedelta(hours=11)
ABSENT_TERMINAL, ABSENT_BRANCH = "T-0102-1", "B-0102"
"""A branch of the district that never opens on the demo's day."""
LOST_TERMINAL, LOST_BRANCH = "T-0103-1", "B-0103"
"""A branch whose one terminal opens its polls and then loses its power."""
OFFLINE_AFTER = timedelta(seconds=15)
"""The demo district's `[fleet] offline_after_s` (90 s by default), so that the day fits in a minute."""
ALERTS_WAIT_S = 20.0
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
    screens: dict[str, str]
    """Each terminal's operator screen, as it was served."""
    dashboard: str
    """The district dashboard, as it was served."""
    alerts: dict[str, int]
    """The alerts the district's dashboard opened during the day, by condition."""
    minutes: DistrictMinutes
    """The district's aggregate of the branch minutes (B-0101's, entered after the close, unless `--serve`)."""
    outage: OutageReport
    """The center's outage under a district permit: OFFLINE slips, refusals, and how the district reconciled them."""


class Engine(enum.StrEnum):
    """The registry's engine for the day (`[registry] engine` of a center's config)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class RunningPcscd:
    """The machine's pcscd, started by someone else (the tests) with the project's vpcd reader on `port`."""

    port: int


def command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.demo", description=__doc__)
    parser.add_argument("--voters", type=int, default=12, help="ordinary voters to serve (default 12)")
    parser.add_argument("--seed", type=int, default=1403, help="seed of the synthetic roll and script")
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="folder for journals, logs, slips")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.add_argument("--serve", action="store_true",
                        help="after the scripted voters keep the terminals, their screens and the center up, with a "
                             "card desk on this console, until quit or Ctrl-C")
    parser.add_argument("--screen-port", type=int, help="the first terminal's screen port, the second's is the next "
                                                        "(default: free ports)")
    parser.add_argument("--vpcd-port", type=int, help="use the pcscd already running with the project's vpcd reader "
                                                      "on this port (as the tests do) instead of starting one")
    parser.add_argument("--registry", choices=[engine.value for engine in Engine], default=Engine.SQLITE.value,
                        help="the registry's engine: the embedded SQLite file (default) or PostgreSQL, the national "
                             "engine, on a private cluster the demo starts and removes")
    args = parser.parse_args(argv)
    if args.voters < 2:
        parser.error("--voters must be at least 2")
    if args.serve and args.json:
        parser.error("--serve is for a person at the console, --json for a program")
    if args.screen_port is not None and not 1024 <= args.screen_port < 65535:
        parser.error("--screen-port must be within 1024-65534")
    out: Path = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    logs.configure(logging.INFO, filename=str(out / "demo.log"))
    pcscd = RunningPcscd(args.vpcd_port) if args.vpcd_port is not None else None
    try:
        report = run_demo(args.voters, args.seed, out, _quiet if args.json else _say, pcscd,
                          serve=args.serve, screen_port=args.screen_port, registry=Engine(args.registry))
    except KeyboardInterrupt:
        print(f"stopped before the day was over; journals and logs are in {out}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
    else:
        _print_summary(report)
    return 0 if report.invariants_ok else 1


def run_demo(voters: int, seed: int, out: Path, narrate: Narrate, pcscd: Vpcd | None = None, *,
             serve: bool = False, screen_port: int | None = None, registry: Engine = Engine.SQLITE) -> DemoReport:
    """The polling day on the registry `registry` names (PostgreSQL: a private cluster for the run)."""
    if registry is Engine.SQLITE:
        return _run_day(voters, seed, out, narrate, pcscd, serve=serve, screen_port=screen_port, registry=None)
    with PostgresCluster() as cluster:
        narrate(f"Registry: PostgreSQL {cluster.server_version()} on a private cluster (removed at the end)")
        return _run_day(voters, seed, out, narrate, pcscd, serve=serve, screen_port=screen_port,
                        registry=PostgresSettings(cluster.dsn()))


def _run_day(voters: int, seed: int, out: Path, narrate: Narrate, pcscd: Vpcd | None, *, serve: bool,
             screen_port: int | None, registry: PostgresSettings | None) -> DemoReport:
    """The whole polling day; `pcscd` is the machine's one pcscd if the caller already runs it. Each terminal
    serves its operator screen (on `screen_port` and the next, or free ports); with `serve` the polls stay open
    after the scripted voters and a person drives the branch (`_serve`) until quit or Ctrl-C."""
    pki = make_pki()
    district = VirtualDistrict(out / "district", DISTRICT, date.today(), voters=max(300, voters * 6), seed=seed,
                               csca_pem=pki.csca_pem(), registry=registry)
    own_pcscd: Pcscd | None = None
    if pcscd is None:
        pcscd = own_pcscd = Pcscd(_folder(out / "pcscd"))
    matcher = FaceMatcher()
    faces = write_all_cases(out / "faces", matcher.models)
    district.start()
    if own_pcscd is not None:
        own_pcscd.start()
    board = _dashboard(district, out)
    narrate(f"District dashboard: {board.url}  staff {board.staff}, password {board.password} "
            f"(made for this demo; the browser must trust the district CA {board.ca_file})")
    narrate(f"  a terminal without a word for {OFFLINE_AFTER.total_seconds():.0f} s is marked offline (the "
            f"district's [fleet] offline_after_s; 90 s by default)")
    absent = district.provision(ABSENT_TERMINAL, ABSENT_BRANCH, out / ABSENT_TERMINAL / "provisioning")
    narrate(f"  {absent.branch} ({absent.terminal}) is enrolled but never opens: the dashboard shows it as not opened")
    lost = LostTerminal(district, LOST_TERMINAL, LOST_BRANCH, out / LOST_TERMINAL)
    terminals: list[DemoTerminal] = []
    narrate("Operator screens (the PINs are made for this demo only):")
    opening = datetime.now(UTC)
    try:
        for number in (1, 2):
            name = f"T-0101-{number}"
            installation = district.provision(name, BRANCH, out / name / "provisioning")
            operator_pin, head_pin = _provision_pins(out / name / "provisioning" / PINS_FILE)
            desk = CardDesk(pcscd, pki, slot=number - 1)
            pcsc = PcscCardReader(desk.reader_name, True)
            reader = CardDocumentReader(pcsc, TrustAnchors.load(installation.csca_path))
            booth, panel = CameraBooth(), OperatorPanel()
            plan = TerminalPlan(installation, out / name, district.broker.address, serial_printer="generic-80",
                                opens_at=opening, closes_at=opening + CLOSING_AFTER, screen=True,
                                screen_port=screen_port + number - 1 if screen_port else None,
                                pins_file=out / name / "provisioning" / PINS_FILE)
            terminal = VirtualTerminal(plan, card_reader=reader, echo=_operator_log(name),
                                       face_check=CameraFaceCheck(booth, matcher), buttons=panel.buttons,
                                       indicators=panel.indicators,
                                       health_checks=[reader_health(reader), camera_health(booth)], camera=booth)
            terminal.start()
            terminals.append(DemoTerminal(terminal, desk, booth, panel))
            narrate(f"  {name} screen: {terminal.screen_url}  operator PIN {operator_pin}, head PIN {head_pin}")
        _open_polls(terminals, narrate)
        _power_cut(lost, board, narrate)
        script = BranchScript(district, terminals, faces, seed, narrate,
                              while_paper_out=functools.partial(_while_paper_out, board, narrate))
        script.run(voters)
        outage = Outage(district, terminals, script, BRANCH, narrate).run()
        _dashboard_reconciled(board, narrate)
        _tamper(terminals[-1], board, narrate)
        if serve:
            _serve(district, terminals, faces, seed, narrate)
        else:
            _close_polls(district, terminals, narrate)
            branch_minutes(district, terminals[0], narrate)
    finally:
        lost.stop()
        for demo_terminal in terminals:
            demo_terminal.desk.put_away()
            demo_terminal.terminal.stop()
            demo_terminal.booth.close()
            demo_terminal.panel.close()
        alerts = _alerts_seen(board)
        board.stop()
        if own_pcscd is not None:
            own_pcscd.stop()
        district.stop()
    return _report(district, terminals, out, board.url, alerts, outage)


def _provision_pins(path: Path) -> tuple[str, str]:
    """The operator's and the head of branch's PINs, as `kiosk-provision set-pin` stores them (scrypt hashes)."""
    operator = f"{secrets.randbelow(10**6):06d}"
    head = operator
    while head == operator:
        head = f"{secrets.randbelow(10**6):06d}"
    for role, pin in ((Role.OPERATOR, operator), (Role.HEAD, head)):
        problem = set_pin(path, role, pin)
        if problem is not None:
            raise RuntimeError(f"the demo's {role.value} PIN was refused: {problem.value}")
    return operator, head


def _serve(district: VirtualDistrict, terminals: list[DemoTerminal], faces: list[WrittenCase], seed: int,
           say: Narrate) -> None:
    """The scripted voters are served and the polls are still open: the screens, the terminals and the center
    stay up, and the console is the card desk, until `quit`, Ctrl-C or SIGTERM."""
    desk = HandDesk(terminals, district.roll, district.election_day, faces, seed,
                    functools.partial(_close_by_hand, district, terminals, say), say)
    prompt = "desk> " if sys.stdin.isatty() else ""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    say("serving: the scripted voters are done; the screens, the terminals and the center stay up "
        "(Ctrl-C stops everything)")
    try:
        if not desk.run(functools.partial(input, prompt)):
            say("the desk's input has ended; the screens stay up until Ctrl-C")
            while True:
                signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    say("stopping")


def _close_by_hand(district: VirtualDistrict, terminals: list[DemoTerminal], say: Narrate) -> None:
    if all(isinstance(t.terminal.state, PollsClosed) for t in terminals):
        say("the polls are closed already")
        return
    _close_polls(district, terminals, say)


def _say(line: str) -> None:
    print(line, flush=True)


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


def _dashboard(district: VirtualDistrict, out: Path) -> DistrictDashboard:
    """The district's live view; the set opening hour is ten minutes before the demo's, so its branch opens late."""
    now = datetime.now(IRAN)
    plan = DashboardPlan(out / "dashboard", now, (now - timedelta(minutes=10)).time().replace(microsecond=0),
                         frozenset({software_hash()}), offline_after=OFFLINE_AFTER)
    board = DistrictDashboard(district, plan)
    board.start()
    return board


def _dashboard_reconciled(board: DistrictDashboard, say: Narrate) -> None:
    """What the district's staff read of the outage on the dashboard (the page draws this same view)."""
    shown = reconcile_view(board.results.reconciliation())
    if not shown["available"]:
        say(f"the district dashboard cannot show the reconciliation: {shown['text']}")
        return
    for branch in shown["branches"]:
        say(f"the district dashboard, reconciliation of {branch['branch']} ({branch['colour']}): {branch['text']}")
    for double in shown["double_votes"]:
        say(f"  double vote on the dashboard: {double['text']}")


def _tamper(where: DemoTerminal, board: DistrictDashboard, say: Narrate) -> None:
    """Someone opens the terminal's case: the flow raises the alarm, telemetry carries it to the dashboard."""
    before = _alarms(where.terminal, "tamper")
    where.panel.open_case()
    where.terminal.wait_until(lambda: _alarms(where.terminal, "tamper") > before)
    where.panel.shut_case()
    say(f"{where.name}: the case is opened (tamper switch): an alarm on the terminal")
    _dashboard_shows(board, Condition.TAMPER, say, where.name)


def _power_cut(lost: LostTerminal, board: DistrictDashboard, say: Narrate) -> None:
    """Once the district has heard the lost terminal's polls open, its power goes: the broker sends its will."""
    lost.wait_open()
    deadline = time.monotonic() + ALERTS_WAIT_S
    while not _heard_open(board, lost.name) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not _heard_open(board, lost.name):
        say(f"{lost.name}: the district never heard its polls open (intake: {board.fleet.intake_counts()})")
    lost.cut()
    say(f"{lost.name} ({lost.branch}): polls opened, then the terminal loses its power; the broker sends its will")


def _heard_open(board: DistrictDashboard, terminal: str) -> bool:
    for branch in board.fleet.snapshot().branches:
        for view in branch.terminals:
            health = view.record.health
            if view.record.terminal == terminal and health is not None and health.polls is not PollsState.NOT_OPEN:
                return True
    return False


def _while_paper_out(board: DistrictDashboard, say: Narrate, where: DemoTerminal) -> None:
    """While the paper is out, the dashboard shows it, and by then the lost terminal is offline."""
    _dashboard_shows(board, Condition.PRINTER, say, where.name)
    _dashboard_shows(board, Condition.OFFLINE, say, LOST_TERMINAL, OFFLINE_AFTER.total_seconds() + ALERTS_WAIT_S)


def _dashboard_shows(board: DistrictDashboard, condition: Condition, say: Narrate, terminal: str,
                     within_s: float = ALERTS_WAIT_S) -> None:
    """Wait (a few seconds) until the district's dashboard has the alert of this terminal's condition."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        board.fleet.evaluate()
        if any(alert.condition is condition and alert.subject.terminal == terminal
               for alert in board.fleet.snapshot().alerts):
            say(f"{terminal}: the district dashboard shows the alert: {condition.value}")
            return
        time.sleep(0.2)
    say(f"{terminal}: the district dashboard did not show {condition.value} within {within_s:.0f} s "
        f"(intake: {board.fleet.intake_counts()})")


def _alarms(terminal: VirtualTerminal, kind: str) -> int:
    return sum(1 for entry in terminal.evidence().audit
               if entry.kind == "alarm" and json.loads(entry.detail).get("alarm") == kind)


def _alerts_seen(board: DistrictDashboard) -> dict[str, int]:
    """The alerts of the day by condition, once the terminals' last reports are in (a few seconds at most)."""
    deadline = time.monotonic() + ALERTS_WAIT_S
    wanted = {Condition.NOT_OPENED, Condition.PRINTER, Condition.TAMPER, Condition.OFFLINE}
    while True:
        board.fleet.evaluate()
        seen: dict[str, int] = {}
        for alert in board.fleet.snapshot().alerts:
            seen[alert.condition.value] = seen.get(alert.condition.value, 0) + 1
        if wanted <= {Condition(name) for name in seen} or time.monotonic() > deadline:
            return dict(sorted(seen.items()))
        time.sleep(0.5)


def _report(district: VirtualDistrict, terminals: list[DemoTerminal], out: Path, dashboard: str,
            alerts: dict[str, int], outage: OutageReport) -> DemoReport:
    evidence = [t.terminal.evidence() for t in terminals]
    counts = {counter: 0 for counter in Counter}
    for demo_terminal in terminals:
        for counter, value in _counts(demo_terminal.terminal).items():
            counts[counter] += value
    registry = district.registry()
    try:
        found = violations(registry.reservations(), evidence, registry.offline_slips_of(district.district))
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
        violations=found, out=str(out), screens={t.name: t.terminal.screen_url for t in terminals},
        dashboard=dashboard, alerts=alerts, minutes=district_minutes(district), outage=outage,
    )


def _counts(terminal: VirtualTerminal) -> dict[Counter, int]:
    with own_journal(terminal) as journal:
        return journal.counts()


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
    alerts = ", ".join(f"{condition} {count}" for condition, count in report.alerts.items()) or "none"
    print(f"  dashboard alerts     {alerts}")
    outage = report.outage
    reconciled = ", ".join(f"{outcome} {count}" for outcome, count in outage.reconciled.items()) or "none"
    print(f"  outage under permit  {outage.offline_slips} OFFLINE slips; refused: {outage.snapshot_hits_refused} "
          f"snapshot hit, {outage.already_issued_here} issued here, {outage.issued_at_branch} issued at the "
          f"branch's other terminal, {outage.over_limit} over the limit")
    print(f"  reconciled           {reconciled} ({outage.double_votes} double votes found)")
    print(f"Branch minutes aggregated by the district center {report.minutes.district}")
    for line in minutes_lines(report.minutes):
        print(line)
    print(f"Journals, logs and printer output are in {report.out}")


if __name__ == "__main__":
    sys.exit(command(sys.argv[1:]))
