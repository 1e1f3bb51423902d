"""A center killed with SIGKILL while answering: after a restart every retry gets the code it was first given."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from center.audit import check_registry
from center.registry import Registry, Requester, ReservationState
from center.synthetic_roll import RollShares, generate_roll
from center.voter_key import registry_key
from protocol.messages import ReserveAnswer, ReserveOutcome
from protocol.seal import load_key
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.sample import ELECTION_DAY

pytestmark = pytest.mark.real_peer
VOTERS = 24
ROLL = generate_roll(VOTERS, 21, ELECTION_DAY, RollShares(0, 0, 0))


def _kiosk_center(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "center.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _prepare(folder: Path, place: TlsDistrict) -> Path:
    assert _kiosk_center("keys", str(folder / "keys")).wait(60) == 0
    registry = Registry(folder / "registry.sqlite", ELECTION_DAY, voter_key=registry_key(load_key(folder / "keys/center-sealing.pem")))
    assert registry.load_roll(ROLL) == VOTERS
    registry.close()
    config = folder / "center.toml"
    as_terminal.enrol(folder / "ca", Requester("t-1", "branch-1", place.district))
    config.write_text(
        f'district = "{place.district}"\nelection_day = {ELECTION_DAY.isoformat()}\ndatabase = "registry.sqlite"\n'
        'signing_key = "keys/center-signing.pem"\nsealing_key = "keys/center-sealing.pem"\nenrolment_ca = "ca"\n'
        + place.center_toml(),
        encoding="utf-8",
    )
    return config


def test_codes_survive_a_killed_center(tmp_path: Path, tls_district: TlsDistrict) -> None:
    district = tls_district.district
    config = _prepare(tmp_path, tls_district)
    sealing = load_key(tmp_path / "keys/center-sealing.pub.pem")
    who = Requester("t-1", "branch-1", district)
    voters = [record.national_code for record in ROLL]
    first = [as_terminal.reserve(who, voter, sealing) for voter in voters]
    server = _kiosk_center("serve", "--config", str(config))
    try:
        with ProbeTerminal(tls_district.broker.address, who, load_key(tmp_path / "keys/center-signing.pub.pem"),
                           tls_district.terminal_tls("t-1")) as probe:
            assert probe.ask(first[0], 20) is not None, "the center never came up"
            for request in first[1:]:
                probe.send(request)
            assert probe.wait(first[3], 10) is not None
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            before_kill = {a.header.tx_id: a.body for a in probe.received}
            server = _kiosk_center("serve", "--config", str(config))
            retries = [
                as_terminal.reserve(who, voter, sealing, tx_id=request.header.tx_id)
                for voter, request in zip(voters, first, strict=True)
            ]
            after = {r.header.tx_id: probe.ask(r, 20) for r in retries}
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=20)
    codes = {}
    for tx_id, answer in after.items():
        assert answer is not None, "a retry after the restart was never answered"
        assert isinstance(answer.body, ReserveAnswer) and answer.body.outcome is ReserveOutcome.ELIGIBLE
        codes[tx_id] = answer.body.inquiry_code
        earlier = before_kill.get(tx_id)
        if earlier is not None:
            assert isinstance(earlier, ReserveAnswer)
            assert earlier.inquiry_code == answer.body.inquiry_code, "a retry got a second inquiry code"
    registry = Registry(tmp_path / "registry.sqlite", ELECTION_DAY, voter_key=registry_key(load_key(tmp_path / "keys/center-sealing.pem")))
    try:
        rows = registry.reservations()
    finally:
        registry.close()
    assert len(rows) == VOTERS
    assert {r.tx_id: r.inquiry_code for r in rows} == codes
    assert all(r.state is ReservationState.RESERVED for r in rows)
    assert check_registry(rows, polls_closed=False) == ()
