"""A real mosquitto on a free loopback port with the project's own configuration."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from center.broker_config import BrokerSettings, BrokerTls, render_mosquitto_conf
from protocol.mqtt import BrokerAddress

_MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


class BrokerUnavailableError(RuntimeError):
    pass


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next((p for p in _MOSQUITTO_PATHS if Path(p).exists()), None)
    if found is None:
        raise BrokerUnavailableError("mosquitto is not installed; run `make test` or `make demo` to install it")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Broker:
    """Start, stop and restart one mosquitto process; the port stays the same across restarts. With `tls`
    the listener requires client certificates from the district CA and applies the ACL file."""

    def __init__(self, work_dir: Path, port: int | None = None, tls: BrokerTls | None = None) -> None:
        self.work_dir = work_dir
        self.address = BrokerAddress("127.0.0.1", port or free_port())
        self._process: subprocess.Popen[bytes] | None = None
        data_dir = work_dir / "broker-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = work_dir / "mosquitto.conf"
        # Started as root, mosquitto drops to its own user, which cannot enter pytest's (or tempfile's) 0700
        # folders: it could neither read its TLS files nor save its state there. It runs as the caller instead.
        user = getpass.getuser() if os.geteuid() == 0 else None
        settings = BrokerSettings(self.address.host, self.address.port, data_dir, tls, user)
        self.config_path.write_text(render_mosquitto_conf(settings))
        self.tls = tls
        self.log_path = work_dir / "mosquitto.log"

    @property
    def center_address(self) -> BrokerAddress:
        """Where the center connects: its own listener in TLS mode, the one listener otherwise."""
        if self.tls is None:
            return self.address
        return BrokerAddress(self.tls.center.host, self.tls.center.port)

    def start(self, timeout: float = 10.0) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [mosquitto_binary(), "-c", str(self.config_path)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerUnavailableError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.address.host, self.address.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise BrokerUnavailableError("mosquitto did not start listening in time")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
