"""Birth numbers: one per connection to the broker, kept on disk so that they only grow, restarts included."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from protocol.telemetry import MAX_BIRTH


class BirthCounter:
    """`take()` gives the next birth number and has it on disk (fsynced) before it returns; a missing or
    unreadable file starts again after the highest number ever written there, or from 1."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            taken = self._last() % MAX_BIRTH + 1
            fresh = self._path.with_suffix(".new")
            self._path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(f"{taken}\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(fresh, self._path)
            return taken

    def _last(self) -> int:
        try:
            text = self._path.read_text().strip()
        except FileNotFoundError:
            return 0
        return int(text) if text.isdecimal() and 0 < int(text) <= MAX_BIRTH else 0
