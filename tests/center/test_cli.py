"""`kiosk-center` as an operator of the district runs it: keys, a roll, a config, serve, stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from center.eligibility import ineligible_reason
from center.registry import Registry, Requester
from center.roll import read_roll
from center.storage import PostgresSettings, open_database
from center.voter_key import national_voter_key, registry_key
from harness.postgres import PostgresCluster
from protocol.messages import ReserveAnswer, ReserveOutcome
from protocol.seal import load_key
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.sample import ELECTION_DAY

UNUSED_BROKER = "[broker]\nhost = \"127.0.0.1\"\nport = 9\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "center.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _config(folder: Path, district: str, broker_toml: str) -> Path:
    path = folder / "center.toml"
    as_terminal.enrol(folder / "ca", Requester("t-1", "branch-1", district))
    path.write_text(
        f'district = "{district}"\nelection_day = {ELECTION_DAY.isoformat()}\ndatabase = "registry.sqlite"\n'
        'signing_key = "keys/center-signing.pem"\nsealing_key = "keys/center-sealing.pem"\nworkers = 2\nworker_processes = 2\nenrolment_ca = "ca"\n'
        + broker_toml,
        encoding="utf-8",
    )
    return path


@pytest.mark.real_peer
def test_keys_roll_and_serve_answer_a_terminal(tmp_path: Path, tls_district: TlsDistrict) -> None:
    district = tls_district.district
    assert _run("keys", str(tmp_path / "keys")).returncode == 0
    assert (tmp_path / "keys/center-signing.pem").stat().st_mode & 0o077 == 0
    generated = _run("roll-generate", "--voters", "50", "--seed", "4", "--election-day",
                     ELECTION_DAY.isoformat(), "--out", str(tmp_path / "roll.csv"))
    assert generated.returncode == 0, generated.stderr
    config = _config(tmp_path, district, tls_district.center_toml())
    loaded = _run("roll-load", "--config", str(config), str(tmp_path / "roll.csv"))
    assert loaded.returncode == 0, loaded.stderr
    roll = read_roll(tmp_path / "roll.csv")
    assert isinstance(roll, list)
    registry = Registry(tmp_path / "registry.sqlite", ELECTION_DAY, voter_key=registry_key(load_key(tmp_path / "keys/center-sealing.pem")))
    assert all(registry.voter(r.national_code) == r for r in roll)
    registry.close()
    voter = next(r for r in roll if ineligible_reason(r, ELECTION_DAY) is None)

    server = subprocess.Popen(
        [sys.executable, "-m", "center.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        center_public = load_key(tmp_path / "keys/center-signing.pub.pem")
        sealing_public = load_key(tmp_path / "keys/center-sealing.pub.pem")
        with ProbeTerminal(tls_district.broker.address, Requester("t-1", "branch-1", district), center_public,
                           tls_district.terminal_tls("t-1")) as probe:
            answer = probe.ask(as_terminal.reserve(probe.who, voter.national_code, sealing_public), 20)
        assert answer is not None, "the served center did not answer"
        assert isinstance(answer.body, ReserveAnswer)
        assert answer.body.outcome is ReserveOutcome.ELIGIBLE
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert "stopped after answering" in out
    assert voter.national_code.digits not in out + err, "the center logged a national code"


def test_a_roll_with_a_bad_line_loads_nothing_and_says_why(tmp_path: Path) -> None:
    config = _config(tmp_path, "d-1", UNUSED_BROKER)
    (tmp_path / "roll.csv").write_text("national_code,birth_date,name,status\n1234,1980-01-01,علی,eligible\n")
    result = _run("roll-load", "--config", str(config), str(tmp_path / "roll.csv"))
    assert result.returncode == 2
    assert "line 2: bad_national_code (wrong_length)" in result.stderr


def test_a_config_with_an_unknown_option_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path, "d-1", UNUSED_BROKER)
    config.write_text(config.read_text() + "colour = 1\n")
    result = _run("serve", "--config", str(config))
    assert result.returncode == 2
    assert "colour: unknown option" in result.stderr


@pytest.mark.real_peer
def test_serve_on_the_national_postgresql_answers_a_terminal(
    tmp_path: Path, tls_district: TlsDistrict, postgres: PostgresCluster
) -> None:
    district = tls_district.district
    assert _run("keys", str(tmp_path / "keys")).returncode == 0
    made = _run("voter-key", str(tmp_path / "keys/national-voter.key"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "keys/national-voter.key").stat().st_mode & 0o077 == 0
    again = _run("voter-key", str(tmp_path / "keys/national-voter.key"))
    assert again.returncode == 2 and "never replaced" in again.stderr, "the national key must never be overwritten"
    dsn = postgres.create_database(f"cli_{district.replace('-', '_')}")
    config = _config(tmp_path, district, tls_district.center_toml())
    config.write_text(config.read_text().replace('database = "registry.sqlite"\n', "")
                      + f"[registry]\nengine = \"postgresql\"\ndsn = \"{dsn}\"\npool_size = 2\n"
                        "voter_key = \"keys/national-voter.key\"\n")
    assert _run("roll-generate", "--voters", "20", "--seed", "5", "--election-day", ELECTION_DAY.isoformat(),
                "--out", str(tmp_path / "roll.csv")).returncode == 0
    loaded = _run("roll-load", "--config", str(config), str(tmp_path / "roll.csv"))
    assert loaded.returncode == 0, loaded.stderr
    roll = read_roll(tmp_path / "roll.csv")
    assert isinstance(roll, list)
    voter = next(r for r in roll if ineligible_reason(r, ELECTION_DAY) is None)
    server = subprocess.Popen([sys.executable, "-m", "center.cli", "serve", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with ProbeTerminal(tls_district.broker.address, Requester("t-1", "branch-1", district),
                           load_key(tmp_path / "keys/center-signing.pub.pem"),
                           tls_district.terminal_tls("t-1")) as probe:
            answer = probe.ask(as_terminal.reserve(probe.who, voter.national_code,
                                                   load_key(tmp_path / "keys/center-sealing.pub.pem")), 20)
        assert answer is not None and isinstance(answer.body, ReserveAnswer), "the served center did not answer"
        assert answer.body.outcome is ReserveOutcome.ELIGIBLE
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    database = open_database(PostgresSettings(dsn, 1))
    registry = Registry(database.session(), ELECTION_DAY,
                        voter_key=national_voter_key(tmp_path / "keys/national-voter.key"))
    try:
        [row] = registry.reservations()
        assert row.voter == registry.voter_of(voter.national_code), "the voter is keyed under the national key"
    finally:
        registry.close()
        database.close()
