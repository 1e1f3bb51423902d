"""systemd's notify protocol: READY once started, WATCHDOG from the event loop's tick, STOPPING at the end."""

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
