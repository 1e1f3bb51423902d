"""The center under systemd: READY and WATCHDOG while every worker loop runs; a dead loop ends the process."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from center.cli import _supervise
from center.registry import Requester
from center.responder import Responder
from center.service import CenterService
from protocol.sd_notify import SystemdNotifier
from protocol.seal import public_part
from tests.center import as_terminal
from tests.center.conftest import TlsDistrict
from tests.center.probe import ProbeTerminal
from tests.center.test_cli import _config, _run

pytestmark = pytest.mark.real_peer


class NotifySocket:
    """What systemd listens on: a datagram socket that collects every notification."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self.messages: list[str] = []

    def collect(self, until: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.messages.append(self._sock.recv(4096).decode())
            except TimeoutError:
                continue
            if until in self.messages:
                return True
        return until in self.messages

    def close(self) -> None:
        self._sock.close()


def test_serve_notifies_ready_and_feeds_the_watchdog_and_logs_json_lines(
    tmp_path: Path, tls_district: TlsDistrict
) -> None:
    assert _run("keys", str(tmp_path / "keys")).returncode == 0
    config = _config(tmp_path, tls_district.district, tls_district.center_toml())
    notify = NotifySocket(tmp_path / "notify.sock")
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen([sys.executable, "-m", "center.cli", "serve", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert notify.collect("READY=1", 20), f"no READY=1 from the center: {notify.messages}"
        assert notify.collect("WATCHDOG=1", 5), f"the center does not feed the watchdog: {notify.messages}"
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=20)
        notify.close()
    assert server.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert records and all({"t", "level", "logger", "msg"} <= record.keys() for record in records), err


class _Escaping(BaseException):
    """Stands for whatever might still get past every guard and end a network thread."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_whose_loop_died_ends_the_supervision(
    tls_district: TlsDistrict, tmp_path: Path, signing_key: OKPKey, sealing_key: OKPKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tls_district.center_config(tmp_path / "registry.sqlite", workers=2)
    who = Requester("t-1", "branch-1", tls_district.district)
    service = CenterService(config, signing_key, sealing_key, enrolled=as_terminal.enrolled([who]))
    service.start()
    try:
        assert service.wait_connected(10) and service.alive()
        notify = NotifySocket(tmp_path / "notify.sock")
        stop = threading.Event()
        outcome: list[bool] = []
        supervisor = threading.Thread(target=lambda: outcome.append(
            _supervise(service, SystemdNotifier(str(notify.path)), stop, interval=0.1)))
        supervisor.start()
        assert notify.collect("WATCHDOG=1", 5), "the watchdog is not fed while every worker lives"
        def escape(*_args: object) -> None:
            raise _Escaping

        monkeypatch.setattr(Responder, "handle", escape)
        with ProbeTerminal(tls_district.broker.address, who, public_part(signing_key),
                           tls_district.terminal_tls(who.terminal)) as probe:
            probe.send(as_terminal.open_polls(who))
        supervisor.join(timeout=10)
        assert outcome == [True], "a dead worker loop did not end the supervision"
        assert not service.alive()
        notify.close()
    finally:
        service.stop()
