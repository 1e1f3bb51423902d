"""systemd notifications over a real unix datagram socket, as systemd receives them."""

from __future__ import annotations

import socket
from pathlib import Path

from protocol.sd_notify import SystemdNotifier


def test_ready_watchdog_and_stopping_reach_the_notify_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(2)
        notifier = SystemdNotifier(str(path))
        notifier.ready()
        notifier.ping()
        notifier.stopping()
        assert [systemd.recv(100) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]

