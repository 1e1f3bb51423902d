"""Serves a virtual chip to pcscd's vpcd driver over its socket: the test inserts and pulls the card."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from harness.card.chip import VirtualChip

_POWER_OFF, _POWER_ON, _RESET, _ATR = 0x00, 0x01, 0x02, 0x04
_RECONNECT_S = 0.05


class VpcdSlot:
    """One vpcd reader slot (a TCP port). While a card is inserted, a thread keeps it connected,
    reconnecting when pcscd restarts; pulling the card closes the connection, which vpcd sees as removal."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.chip: VirtualChip | None = None
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connections = 0

    def insert(self, chip: VirtualChip) -> None:
        self.pull()
        self.chip = chip
        chip.plugged()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(chip, self._stop), daemon=True, name="vpcd-card")
        self._thread.start()

    def pull(self) -> None:
        self._stop.set()
        if self.chip is not None:
            self.chip.unplugged()
        self._close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.chip = None

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Whether the card reached vpcd (for fixtures; event tests wait for pcscd's own events)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._socket is not None:
                    return True
            time.sleep(0.02)
        return False

    def _serve(self, chip: VirtualChip, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connection = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                stop.wait(_RECONNECT_S)
                continue
            connection.settimeout(None)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if stop.is_set():
                    connection.close()
                    return
                self._socket = connection
                self.connections += 1
            self._converse(connection, chip, stop)
            self._close()

    def _converse(self, connection: socket.socket, chip: VirtualChip, stop: threading.Event) -> None:
        while not stop.is_set():
            message = _receive(connection)
            if message is None:
                return
            if len(message) == 1:
                match message[0]:
                    case 0x00 | 0x01 | 0x02:
                        chip.reset()
                    case 0x04:
                        _send(connection, chip.atr)
                    case _:
                        pass
                continue
            response = chip.respond(message)
            if response is None:
                stop.set()
                return
            _send_frame(connection, chip.frame(response))

    def _close(self) -> None:
        with self._lock:
            connection, self._socket = self._socket, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


def _receive(connection: socket.socket) -> bytes | None:
    header = _read_exactly(connection, 2)
    if header is None:
        return None
    return _read_exactly(connection, int.from_bytes(header, "big"))


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        try:
            chunk = connection.recv(size - len(chunks))
        except OSError:
            return None
        if not chunk:
            return None
        chunks += chunk
    return chunks


def _send(connection: socket.socket, payload: bytes) -> None:
    _send_frame(connection, len(payload).to_bytes(2, "big") + payload)


def _send_frame(connection: socket.socket, frame: bytes) -> None:
    try:
        connection.sendall(frame)
    except OSError:
        return
