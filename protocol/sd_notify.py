"""systemd's notify protocol (terminal and center): READY once started, WATCHDOG while the loops live, STOPPING."""

from __future__ import annotations

import os
import socket


class SystemdNotifier:
    """Datagrams to $NOTIFY_SOCKET; outside systemd (no socket) every call does nothing."""

    def __init__(self, address: str | None = None) -> None:
        self._address = address if address is not None else os.environ.get("NOTIFY_SOCKET")

    def _send(self, message: str) -> None:
        if not self._address:
            return
        target = "\0" + self._address[1:] if self._address.startswith("@") else self._address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), target)

    def ready(self) -> None:
        self._send("READY=1")

    def ping(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")


def watchdog_interval(default: float = 5.0) -> float:
    """How often to ping: half of systemd's WatchdogSec (from $WATCHDOG_USEC), or `default` outside it."""
    raw = os.environ.get("WATCHDOG_USEC", "")
    return int(raw) / 2_000_000 if raw.isdigit() and int(raw) > 0 else default
