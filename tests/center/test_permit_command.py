"""`kiosk-center permit` as the district's staff run it: issue a permit to a branch's enrolled terminals, read out
its phone codes, broadcast an activation or its end through the district broker, list what is on file; every
refusal says why."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from center import cli as center_cli
from center import permit_command
from center.permit_book import PERMITS_FOLDER, RECORD_SUFFIX
from center.registry import Requester
from protocol.codec import ProtocolError
from protocol.inquiry_code import group_inquiry_code
from protocol.mqtt import MqttSession
from protocol.permit import activation_code
from protocol.seal import load_key, open_permit, open_permit_end, open_permit_secrets
from protocol.topics import permit_topic, permits_subscription
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.sample import ELECTION_DAY

DISTRICT = "d-permit"
UNUSED_BROKER = "[broker]\nhost = \"127.0.0.1\"\nport = 9\n"
TERMINALS = (Requester("t-1", "branch-1", DISTRICT), Requester("t-2", "branch-1", DISTRICT),
             Requester("t-9", "branch-9", DISTRICT))


def _config(folder: Path, broker_toml: str = UNUSED_BROKER, district: str = DISTRICT) -> Path:
    assert center_cli.main(["keys", str(folder / "keys")]) == 0
    for who in TERMINALS:
        as_terminal.enrol(folder / "ca", Requester(who.terminal, who.branch, district))
    path = folder / "center.toml"
    path.write_text(
        f'district = "{district}"\nelection_day = {ELECTION_DAY.isoformat()}\ndatabase = "registry.sqlite"\n'
        'signing_key = "keys/center-signing.pem"\nsealing_key = "keys/center-sealing.pem"\nenrolment_ca = "ca"\n'
        + broker_toml, encoding="utf-8")
    return path


def _permit(config: Path, *extra: str) -> int:
    return center_cli.main(["permit", *extra, "--config", str(config)])


def _issue(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    assert _permit(config, "issue", "--branch", "branch-1", "--terminal", "t-1", "--terminal", "t-2",
                   "--until", until, "--max-slips", "30", *extra) == 0
    out = capsys.readouterr().out
    found = re.search(r"permit ([0-9a-f]{32}) for branch branch-1 \(t-1, t-2\)", out)
    assert found, out
    return found.group(1)


def test_a_permit_is_issued_sealed_to_each_terminal_kept_on_file_and_read_out_by_phone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    permit_id = _issue(config, capsys, "--out", str(tmp_path / "out"), "--activations", "2")
    signed = (tmp_path / "out" / f"{permit_id}{permit_command.PERMIT_FILE_SUFFIX}").read_bytes()
    permit = open_permit(signed, load_key(tmp_path / "keys/center-signing.pub.pem"))
    assert not isinstance(permit, ProtocolError), permit
    assert (permit.district, permit.branch, permit.terminals, permit.max_slips, permit.activations) == (
        DISTRICT, "branch-1", ("t-1", "t-2"), 30, 2)
    secrets = open_permit_secrets(permit, "t-2", as_terminal.permit_key_of("t-2"))
    assert not isinstance(secrets, ProtocolError), secrets
    assert isinstance(open_permit_secrets(permit, "t-1", as_terminal.permit_key_of("t-2")), ProtocolError)
    on_file = json.loads((tmp_path / "ca" / PERMITS_FOLDER / f"{permit_id}{RECORD_SUFFIX}").read_text())
    assert on_file["permit"] == signed.decode() and on_file["end"] is None
    assert secrets.activation_key.hex() not in json.dumps(on_file), "the activation key is on file in the clear"

    assert _permit(config, "code", "--permit", permit_id, "--activation", "2") == 0
    expected = group_inquiry_code(activation_code(secrets.activation_key, permit_id, 2))
    assert f"read out {expected} to the head of branch branch-1" in capsys.readouterr().out
    assert _permit(config, "list") == 0
    assert f"{permit_id} branch branch-1 terminals t-1,t-2" in (listed := capsys.readouterr().out)
    assert listed.rstrip().endswith("in force"), listed


@pytest.mark.parametrize(("arguments", "reason"), [
    (["--terminal", "t-1", "--terminal", "t-9"], "t-9 serves branch branch-9, not branch-1"),
    (["--terminal", "t-404"], "t-404 is not enrolled in this district"),
    (["--terminal", "t-1", "--until", "2026-12-03T12:00"], "give the offset"),
    (["--terminal", "t-1", "--until", "tomorrow"], "not an ISO 8601 time"),
    (["--terminal", "t-1", "--until", "2030-01-01T00:00+00:00"], "the window must be open and at most"),
    (["--terminal", "t-1", "--max-slips", "0"], "--max-slips is required"),
    ([], "name the branch's terminals with --terminal"),
])
def test_an_issue_that_does_not_hold_is_refused_with_its_reason_and_nothing_is_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], reason: str) -> None:
    config = _config(tmp_path)
    capsys.readouterr()
    defaults = {"--until": (datetime.now(UTC) + timedelta(hours=2)).isoformat(), "--max-slips": "10"}
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    extra = [item for name, value in defaults.items() if name not in given for item in (name, value)]
    assert _permit(config, "issue", "--branch", "branch-1", *arguments, *extra) == 2
    assert reason in capsys.readouterr().err
    assert not (tmp_path / "ca" / PERMITS_FOLDER).exists() or not any((tmp_path / "ca" / PERMITS_FOLDER).iterdir())


def test_codes_and_broadcasts_the_permit_does_not_allow_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    by_phone = _issue(config, capsys, "--path", "phone_code", "--activations", "1")
    assert _permit(config, "code", "--permit", by_phone, "--activation", "2") == 2
    assert "--activation 1 to 1" in capsys.readouterr().err
    assert _permit(config, "activate", "--permit", by_phone, "--activation", "1") == 2
    assert "not activated by broadcast" in capsys.readouterr().err
    by_broadcast = _issue(config, capsys, "--path", "broadcast")
    assert _permit(config, "code", "--permit", by_broadcast, "--activation", "1") == 2
    assert "not activated by phone" in capsys.readouterr().err
    assert _permit(config, "code", "--permit", "f" * 32, "--activation", "1") == 2
    assert "no permit" in capsys.readouterr().err


def test_an_end_is_kept_on_file_even_when_the_broker_cannot_take_it_and_a_file_altered_on_disk_does_not_hold(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(permit_command, "PUBLISH_WAIT_S", 0.5)
    config = _config(tmp_path)
    permit_id = _issue(config, capsys)
    assert _permit(config, "end", "--permit", permit_id) == 2
    assert "ended on file but not broadcast" in capsys.readouterr().err
    assert _permit(config, "list") == 0
    assert ": ended " in capsys.readouterr().out
    assert _permit(config, "activate", "--permit", permit_id, "--activation", "1") == 2
    assert "the permit ended at" in capsys.readouterr().err
    record = tmp_path / "ca" / PERMITS_FOLDER / f"{permit_id}{RECORD_SUFFIX}"
    data = json.loads(record.read_text())
    header, payload, signature = data["permit"].split(".")
    record.write_text(json.dumps(data | {"permit": f"{header}.{payload[:-4]}AAAA.{signature}"}))
    assert _permit(config, "list") == 0
    assert f"{permit_id}: does not hold" in capsys.readouterr().out
    assert _permit(config, "code", "--permit", permit_id, "--activation", "1") == 2
    assert "does not verify" in capsys.readouterr().err


@pytest.mark.real_peer
def test_the_permit_its_activation_and_its_end_reach_the_branchs_terminals_through_the_broker_and_no_one_else(
        tmp_path: Path, tls_district: TlsDistrict, capsys: pytest.CaptureFixture[str]) -> None:
    district = tls_district.district
    config = _config(tmp_path, tls_district.center_toml(), district)
    received: list[tuple[str, bytes]] = []
    arrived = threading.Condition()

    def kept(topic: str, payload: bytes) -> None:
        with arrived:
            received.append((topic, payload))
            arrived.notify_all()

    permit_id = _issue(config, capsys, "--publish")
    center_key = load_key(tmp_path / "keys/center-signing.pub.pem")
    assert _permit(config, "activate", "--permit", permit_id, "--activation", "1", "--minutes", "5") == 0
    assert _permit(config, "end", "--permit", permit_id) == 0
    capsys.readouterr()
    terminal = MqttSession(client_id="t-1", broker=tls_district.broker.address,
                           subscriptions=[permits_subscription(district, "branch-1")], on_message=kept,
                           tls=tls_district.terminal_tls("t-1"))
    terminal.start()
    try:
        assert terminal.wait_connected(10)
        with arrived:
            arrived.wait_for(lambda: len(received) >= 2, timeout=10)
        topics = {topic: payload for topic, payload in received}
        assert set(topics) == {permit_topic(district, "branch-1", permit_id, "permit"),
                               permit_topic(district, "branch-1", permit_id, "end")}, topics
        assert not isinstance(open_permit(topics[permit_topic(district, "branch-1", permit_id, "permit")],
                                          center_key), ProtocolError)
        end = open_permit_end(topics[permit_topic(district, "branch-1", permit_id, "end")], center_key)
        assert not isinstance(end, ProtocolError) and end.permit_id == permit_id
        forged = permit_topic(district, "branch-1", "e" * 32, "activation")
        terminal.publish(forged, b"forged activation", retain=True, wait=5)
        with arrived:
            arrived.wait_for(lambda: any(topic == forged for topic, _ in received), timeout=2)
        assert all(topic != forged for topic, _ in received), "a terminal published a permit message"
    finally:
        terminal.stop()
