"""Telemetry's parts without a broker: birth numbers, the will's birth, the report and what sends one at once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_app.flow.notices import Component
from firmware_app.flow.states import PollsPhase
from firmware_app.runtime.facts import SENDS_KEPT, LinkFigures, LoopFacts
from firmware_app.runtime.health import FaultsOnce, Health
from firmware_app.runtime.settings import RuntimeSettings, TerminalIdentity
from firmware_app.telemetry import board
from firmware_app.telemetry.birth import BirthCounter
from firmware_app.telemetry.report import Numbering, compose, what_matters
from firmware_app.telemetry.status import StatusPlan, StatusSigner
from protocol.codec import ProtocolError, encode_telemetry
from protocol.messages import CloseCounts
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_health,
    open_status,
    public_part,
    sign_telemetry,
)
from protocol.telemetry import MAX_BIRTH, LinkState, PollsState, supersedes

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
KEY = generate_signing_key()
IDENTITY = TerminalIdentity(terminal="T-0001", branch="B-0001", district="D01")
SETTINGS = RuntimeSettings(IDENTITY, False, public_part(generate_signing_key()), public_part(generate_sealing_key()),
                           KEY, b"k" * 32, "1.4.0", "a" * 64, "b" * 64, AT, AT + timedelta(hours=10), {})
COUNTS = CloseCounts(3, 1, 1, 2, 1, 0, 0, 1)
FACTS = LoopFacts(PollsPhase.OPEN, COUNTS, 0, {"tamper": 1}, 120, -40)
BOARD = board.BoardFacts("0" * 32, 3600, 2048, None, None)
HEALTHY = [Health(Component.PRINTER, True, True, "ready"), Health(Component.CENTER_LINK, True, True, "connected")]


def test_birth_numbers_only_grow_across_restarts_and_survive_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "birth"
    assert [BirthCounter(path).take() for _ in range(3)] == [1, 2, 3]
    assert BirthCounter(path).take() == 4
    path.write_text(f"{MAX_BIRTH}\n")
    assert BirthCounter(path).take() == 1, "past the largest a message may carry it wraps, it does not fail"
    path.write_text("garbage")
    assert BirthCounter(path).take() == 1


def test_the_will_given_at_connect_is_offline_of_the_birth_that_connection_announces(tmp_path: Path) -> None:
    signer = StatusSigner(IDENTITY, StatusPlan(KEY, BirthCounter(tmp_path / "birth"), lambda: AT))
    for _ in range(3):
        will = open_status(signer.will().payload, KEY)
        born = open_status(signer.born(), KEY)
        assert not isinstance(will, ProtocolError) and not isinstance(born, ProtocolError)
        assert (will.state, born.state) == (LinkState.OFFLINE, LinkState.ONLINE)
        assert will.birth == born.birth == signer.current
        goodbye = signer.goodbye()
        assert goodbye is not None
        said = open_status(goodbye, KEY)
        assert not isinstance(said, ProtocolError) and said.birth == born.birth and supersedes(said, born)
        stale_will = will
        signer.lost()
        assert signer.goodbye() is None
    newest = open_status(signer.born(), KEY)
    assert not isinstance(newest, ProtocolError) and not supersedes(stale_will, newest)


def test_a_report_is_status_values_and_counts_and_verifies() -> None:
    report = compose(SETTINGS, Numbering(7, 3, 2), AT, BOARD, FACTS, HEALTHY)
    assert (report.birth, report.seq, report.dropped_reports, report.polls) == (7, 3, 2, PollsState.OPEN)
    assert [(a.kind, a.count) for a in report.alarms] == [("tamper", 1)]
    assert report.counters == COUNTS and report.link_rtt_ms == 120 and report.clock_offset_ms == -40
    opened = open_health(sign_telemetry(report, KEY), KEY)
    assert opened == report
    assert b"0012345679" not in encode_telemetry(report)


def test_what_sends_a_report_at_once_is_a_condition_the_polls_an_alarm_or_a_growing_outbox() -> None:
    base = compose(SETTINGS, Numbering(1, 1, 0), AT, BOARD, FACTS, HEALTHY)
    same = compose(SETTINGS, Numbering(1, 2, 0), AT + timedelta(seconds=2), BOARD,
                   dataclasses.replace(FACTS, counters=dataclasses.replace(COUNTS, issued=4), link_rtt_ms=90), HEALTHY)
    assert what_matters(same) == what_matters(base), "a new count or round trip waits for the interval"
    paper_out = [Health(Component.PRINTER, False, True, "no_paper"), HEALTHY[1]]
    changes = [
        compose(SETTINGS, Numbering(1, 2, 0), AT, BOARD, FACTS, paper_out),
        compose(SETTINGS, Numbering(1, 2, 0), AT, BOARD, dataclasses.replace(FACTS, polls=PollsPhase.SUSPENDED),
                HEALTHY),
        compose(SETTINGS, Numbering(1, 2, 0), AT, BOARD, dataclasses.replace(FACTS, alarms={"tamper": 2}), HEALTHY),
        compose(SETTINGS, Numbering(1, 2, 0), AT, BOARD, dataclasses.replace(FACTS, outbox_backlog=12), HEALTHY),
    ]
    for changed in changes:
        assert what_matters(changed) != what_matters(base)


def test_link_figures_are_the_last_round_trip_and_the_clock_against_the_center() -> None:
    now = [100.0]
    figures = LinkFigures(lambda: now[0])
    figures.sent("r1")
    now[0] = 100.25
    figures.answered("r1", AT, AT + timedelta(seconds=3))
    assert (figures.rtt_ms, figures.clock_offset_ms) == (250, 3000)
    figures.answered("unknown", AT, AT - timedelta(seconds=1))
    assert (figures.rtt_ms, figures.clock_offset_ms) == (250, -1000), "no send time: the round trip stays"
    for number in range(SENDS_KEPT + 10):
        figures.sent(f"r{number}")
    figures.answered("r0", AT, AT)
    assert figures.rtt_ms == 250, "the oldest send times are forgotten, so memory stays bounded"


@pytest.mark.parametrize("missing", ["THERMAL", "THROTTLED", "BOOT_ID", "UPTIME"])
def test_a_board_without_a_sensor_reports_none_or_a_neutral_value(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, missing, tmp_path / "absent")
    facts = board.read_board(tmp_path)
    assert facts.free_disk_mb is not None and facts.free_disk_mb > 0
    match missing:
        case "THERMAL":
            assert facts.cpu_temp_mc is None
        case "THROTTLED":
            assert facts.throttled is None
        case "BOOT_ID":
            assert facts.boot_id == "0" * 32
        case _:
            assert facts.uptime_s == 0


def test_the_board_files_are_read_as_a_raspberry_pi_writes_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in {"THERMAL": "48312\n", "THROTTLED": "0x50005\n", "BOOT_ID": "7a986532-5cec-4387-b0dc-bfefc15b0c5f",
                       "UPTIME": "5025.71 9301.44\n"}.items():
        (tmp_path / name).write_text(text)
        monkeypatch.setattr(board, name, tmp_path / name)
    facts = board.read_board(tmp_path)
    assert (facts.cpu_temp_mc, facts.throttled, facts.boot_id, facts.uptime_s) == (
        48312, True, "7a9865325cec4387b0dcbfefc15b0c5f", 5025)


def test_a_check_that_raises_on_every_look_is_one_audited_fault_until_it_answers_again() -> None:
    handed: list[str] = []
    once = FaultsOnce(lambda handling, _exc: handed.append(handling))
    for _ in range(3):
        once("health check printer", TypeError("a bug"))
        once.looked()
    assert handed == ["health check printer"]
    once.looked()  # a look in which the printer answered
    once("health check printer", TypeError("the bug again"))
    assert handed == ["health check printer", "health check printer"]
