"""The terminal's telemetry through the real broker: its birth and will, health reports, changes sent at once,
reports dropped and counted while the link is down, and never a national code, name or photo."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from firmware_app.flow import states as st
from firmware_app.flow.events import OperatorConfirmed
from hal.printer import PrinterState, PrintStage
from harness.district import VirtualDistrict
from harness.terminal import VirtualTerminal
from harness.terminal_proc import run_until_killed
from protocol.codec import ProtocolError
from protocol.mqtt import MqttSession
from protocol.seal import open_health, open_status
from protocol.telemetry import HealthReport, LinkState, PollsState, TerminalStatus
from protocol.topics import status_topic, telemetry_topic
from provisioning.installed import Installation
from tests.integration.conftest import TerminalFactory, Voters, card_of

pytestmark = pytest.mark.real_peer

FAST_S = 1.0
"""A report every second, so that a test sees several."""


@dataclass
class Heard:
    """Every status and health message of one terminal the center's side heard, raw and verified."""

    raw: list[bytes] = field(default_factory=list)
    statuses: list[TerminalStatus] = field(default_factory=list)
    reports: list[HealthReport] = field(default_factory=list)
    refused: list[ProtocolError] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)


@dataclass
class Listener:
    heard: Heard
    session: MqttSession


def _listen(district: VirtualDistrict, terminal: str, installation: Installation, name: str) -> Listener:
    heard = Heard()
    key = installation.signing_key

    def arrived(topic: str, payload: bytes) -> None:
        opened = open_status(payload, key) if topic.endswith("/status") else open_health(payload, key)
        with heard.changed:
            heard.raw.append(payload)
            if isinstance(opened, ProtocolError):
                heard.refused.append(opened)
            elif isinstance(opened, TerminalStatus):
                heard.statuses.append(opened)
            else:
                heard.reports.append(opened)
            heard.changed.notify_all()

    topics = [status_topic(district.district, terminal), telemetry_topic(district.district, terminal)]
    session = district.center_session(name, topics, arrived)
    session.start()
    assert session.wait_connected(10)
    return Listener(heard, session)


def _wait(heard: Heard, what: str, found: object, timeout: float = 15.0) -> None:
    with heard.changed:
        if not heard.changed.wait_for(found, timeout):  # type: ignore[arg-type]
            raise AssertionError(f"never heard {what}; statuses {heard.statuses[-3:]}, reports {len(heard.reports)}")


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.session.stop()


def test_a_birth_then_reports_that_follow_the_day_and_carry_no_voter_data(
    district: VirtualDistrict, voters: Voters, make_terminal: TerminalFactory, listeners: list[Listener]
) -> None:
    terminal = make_terminal(open_polls=False, telemetry_interval_s=FAST_S)
    name = terminal.plan.identity.terminal
    listener = _listen(district, name, terminal.plan.installation, "center-telemetry-1")
    listeners.append(listener)
    heard = listener.heard
    _wait(heard, "the retained birth", lambda: any(s.state is LinkState.ONLINE for s in heard.statuses))
    birth = heard.statuses[-1].birth
    _wait(heard, "a report of this birth", lambda: any(r.birth == birth for r in heard.reports))
    first = heard.reports[-1]
    assert first.polls is PollsState.NOT_OPEN and first.terminal == name and first.seq >= 1
    assert {c.component: c.condition for c in first.components}["printer"] == "ready"

    terminal.open_polls()
    voter = voters.eligible()
    terminal.reader.insert(card_of(voter))
    terminal.wait_for(st.AwaitingConfirmation)
    terminal.post(OperatorConfirmed())
    terminal.wait_for(st.Committing, timeout=15)
    terminal.wait_for(st.Idle, timeout=15)
    _wait(heard, "the issued slip counted", lambda: any(r.counters.issued == 1 for r in heard.reports))
    latest = heard.reports[-1]
    assert latest.polls is PollsState.OPEN and latest.link_rtt_ms is not None and latest.clock_offset_ms is not None
    assert [r.seq for r in heard.reports if r.birth == birth] == sorted({r.seq for r in heard.reports
                                                                        if r.birth == birth})

    terminal.printer.fail_next(PrintStage.BEFORE, PrinterState.NO_PAPER)
    _wait(heard, "paper out at once", lambda: any({c.component: c.condition for c in r.components}["printer"]
                                                  == "no_paper" for r in heard.reports), timeout=FAST_S * 10)
    assert heard.refused == []
    secrets = [voter.national_code.digits.encode(), voter.name.encode(), voter.name.encode("unicode_escape")]
    for payload in heard.raw:
        assert not any(secret in payload for secret in secrets), "a national code or name in telemetry"


def test_a_clean_stop_says_offline_and_a_restart_is_a_newer_birth(
    district: VirtualDistrict, make_terminal: TerminalFactory, listeners: list[Listener]
) -> None:
    terminal = make_terminal(telemetry_interval_s=FAST_S)
    name, plan = terminal.plan.identity.terminal, terminal.plan
    listener = _listen(district, name, plan.installation, "center-telemetry-2")
    listeners.append(listener)
    heard = listener.heard
    _wait(heard, "the birth", lambda: any(s.state is LinkState.ONLINE for s in heard.statuses))
    born = heard.statuses[-1].birth
    terminal.stop()
    _wait(heard, "the goodbye", lambda: heard.statuses[-1].state is LinkState.OFFLINE)
    assert heard.statuses[-1].birth == born
    again = VirtualTerminal(plan)
    again.start()
    try:
        _wait(heard, "a newer birth", lambda: heard.statuses[-1].state is LinkState.ONLINE)
        assert heard.statuses[-1].birth > born
    finally:
        again.stop()


def test_reports_while_the_broker_is_away_are_dropped_counted_and_said_on_return(
    district: VirtualDistrict, make_terminal: TerminalFactory, listeners: list[Listener]
) -> None:
    terminal = make_terminal(telemetry_interval_s=FAST_S)
    reporter = terminal.terminal.reporter
    assert reporter is not None
    terminal.wait_until(lambda: reporter.sent >= 1)
    district.broker.stop()
    try:
        terminal.wait_until(lambda: reporter.dropped >= 2, timeout=20)
    finally:
        district.broker.start()
    terminal.link.wait_connected(30)
    listener = _listen(district, terminal.plan.identity.terminal, terminal.plan.installation, "center-telemetry-3")
    listeners.append(listener)
    heard = listener.heard
    _wait(heard, "a report that counts the dropped ones", lambda: any(r.dropped_reports >= 2 for r in heard.reports),
          timeout=30)


def test_a_killed_terminal_is_marked_offline_by_its_will_with_its_birth(
    district: VirtualDistrict, tmp_path: Path, listeners: list[Listener]
) -> None:
    name = "T-WILL"
    installation = district.provision(name, "B-WILL", tmp_path / "provisioning")
    listener = _listen(district, name, installation, "center-telemetry-4")
    listeners.append(listener)
    heard = listener.heard
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=run_until_killed, args=(str(tmp_path / name), str(tmp_path / "provisioning"),
                                                                 district.broker.address.port, ready))
    child.start()
    try:
        assert ready.wait(60), "the terminal process did not start"
        _wait(heard, "the birth", lambda: any(s.state is LinkState.ONLINE for s in heard.statuses), timeout=30)
        born = heard.statuses[-1].birth
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        _wait(heard, "the will", lambda: heard.statuses[-1].state is LinkState.OFFLINE, timeout=120)
        assert heard.statuses[-1].birth == born, "the will names another birth than the connection it ends"
    finally:
        child.kill()
        child.join(10)
