"""`kiosk run`'s own wiring end to end: a config file and an installed bundle in, a voter's slip out of the printer.

The terminal is built by `service.open_kiosk`, the function `kiosk run` calls, and runs on real peers only: the
PC/SC reader through pcscd/vpcd, the ESC/POS driver on a pty with the virtual printer at the other end, the GPIO
drivers on the pin factory gpiozero picks from GPIOZERO_PIN_FACTORY, a mutual-TLS mosquitto and the real center.
"""

from __future__ import annotations

import io
import json
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from center.eligibility import ineligible_reason
from center.registry import ReservationState
from drivers.escpos import profile_named
from firmware_app.assembly import JOURNAL_FILE
from firmware_app.flow import states as st
from firmware_app.flow.events import TxStage
from firmware_app.service import Kiosk, open_kiosk
from firmware_app.store.journal import Journal, TxRecord
from harness.card.pcscd import Pcscd
from harness.card.pki import make_pki
from harness.card_desk import CardDesk, holder_of
from harness.district import VirtualDistrict
from harness.panel import PanelPins
from harness.printer.pty_pair import open_virtual_printer
from harness.slip_evidence import jobs_from_pages
from harness.steps import StepLog
from provisioning import cli as provisioning_cli

pytestmark = pytest.mark.real_peer

TERMINAL, BRANCH = "T-0901-1", "B-0901"
PROFILE = "generic-80"


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is now about noon, so that the installed hours (07:00 to 22:00) hold for the
    whole test whenever it runs."""
    offset = 12 - now.astimezone(UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def write_config(path: Path, sections: dict[str, dict[str, object]]) -> None:
    lines = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Branch:
    """The peers around one kiosk: the district (broker and center), its card desk and the printer's paper."""

    def __init__(self, work: Path, pcscd: Pcscd, stack: ExitStack) -> None:
        self.day = date.today()
        pki = make_pki()
        self.district = VirtualDistrict(work / "district", "D01", self.day, voters=60, seed=29, csca_pem=pki.csca_pem())
        self.district.start()
        stack.callback(self.district.stop)
        if not pcscd.running:
            pcscd.start()
        self.desk = CardDesk(pcscd, pki, slot=0)
        stack.callback(self.desk.take_back)
        self.printer_device, self.paper = open_virtual_printer(profile_named(PROFILE), work / "slips")
        stack.callback(self.paper.stop)


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as resources:
        yield resources


def test_kiosk_run_wiring_serves_a_carded_voter_confirmed_on_the_button_with_one_slip(
    pcscd: Pcscd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    branch = Branch(tmp_path, pcscd, stack)
    district, paper = branch.district, branch.paper
    district.provision(TERMINAL, BRANCH, tmp_path / "provisioning")
    monkeypatch.setattr("sys.stdin", io.StringIO("246810\n"))
    assert provisioning_cli.main(["set-pin", "--dir", str(tmp_path / "provisioning"), "--role", "operator",
                                  "--stdin"]) == 0
    config = tmp_path / "terminal.toml"
    now = datetime.now(UTC)
    screen_port = _free_port()
    write_config(config, {
        "terminal": {"provisioning_dir": str(tmp_path / "provisioning"), "state_dir": str(tmp_path / "state"),
                     "training": False, "timezone": noon_zone(now)},
        "broker": {"host": district.broker.address.host, "port": district.broker.address.port},
        "printer": {"device": branch.printer_device, "profile": PROFILE},
        "card": {"reader": branch.desk.reader_name, "extended_reads": True},
        "gpio": {"enabled": True},
        "screen": {"port": screen_port},
    })
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    monkeypatch.setattr(Device, "pin_factory", None)

    kiosk = open_kiosk(config, now, heartbeat=lambda: None)

    assert isinstance(kiosk, Kiosk), f"kiosk run refused to start: {kiosk}"
    stack.callback(kiosk.stop)
    assert isinstance(Device.pin_factory, MockFactory), "gpiozero did not take the pin factory from the environment"
    hands = PanelPins(Device.pin_factory)
    hands.shut_case()
    steps = StepLog(kiosk.terminal.runtime)
    kiosk.start()
    steps.wait_for(st.PollsNotOpen)
    steps.wait_until(lambda: kiosk.terminal.link.connected)
    assert _signs_in(screen_port, "246810"), "kiosk run should serve the operator screen on its port"
    kiosk.terminal.runtime.request_open()
    steps.wait_for(st.Idle, timeout=20)

    voter = next(r for r in district.roll if ineligible_reason(r, branch.day) is None)
    branch.desk.present(holder_of(voter, seed=3))
    steps.wait_for(st.AwaitingConfirmation, timeout=20)
    hands.confirm()
    committing = steps.wait_for(st.Committing, timeout=20)
    steps.wait_until(lambda: [tx.stage for tx in _transactions(tmp_path / "state")] == [TxStage.ISSUED])

    slips = [job for job in jobs_from_pages(paper.pages) if job.qr]
    assert [(job.qr, job.complete) for job in slips] == [((committing.inquiry_code,), True)], \
        "one whole slip with the center's inquiry code should have come out of the printer"
    [record] = _transactions(tmp_path / "state")
    assert record.inquiry_code == committing.inquiry_code and record.serial is not None
    assert district.reservations_of(TERMINAL) == [(committing.inquiry_code, ReservationState.COMMITTED)]


def _transactions(state_dir: Path) -> list[TxRecord]:
    """The kiosk's journal, read on a connection of the test's own."""
    journal = Journal(state_dir / JOURNAL_FILE)
    try:
        return journal.transactions()
    finally:
        journal.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _signs_in(port: int, pin: str) -> bool:
    """The screen `kiosk run` serves takes the PIN set with `kiosk-provision set-pin`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/sign-in", data=json.dumps({"role": "operator", "pin": pin}).encode(),
        method="POST", headers={"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bool(json.loads(response.read())["signed_in"])
