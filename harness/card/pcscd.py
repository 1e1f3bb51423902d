"""Start and stop the one pcscd of this machine with the project's own vpcd reader configuration."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from drivers.pcsc import scard
from hal.link_errors import LinkError

READER_NAME = "BVT Virtual PCD"
DEFAULT_PORT = 35990
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
_PID_FILE = Path("/run/pcscd/pcscd.pid")
_PCSCD_PATHS = ("/usr/sbin/pcscd", "/usr/bin/pcscd")


class PcscdUnavailableError(RuntimeError):
    pass


def render_reader_conf(port: int) -> str:
    """A reader.conf for one vpcd reader; vpcd listens on `port` (slot 0) and `port + 1` (slot 1)."""
    return (
        f'FRIENDLYNAME "{READER_NAME}"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {VPCD_DRIVER}\n"
        f"CHANNELID    0x{port:04X}\n"
    )


def slot_reader_name(slot: int) -> str:
    """The name prefix pcscd gives vpcd's slot `slot` (0 listens on the port, 1 on port + 1)."""
    return f"{READER_NAME} 00 {slot:02d}"


class Pcscd:
    """One pcscd in the foreground with `--config` pointing at our own reader.conf (not /etc's)."""

    def __init__(self, work_dir: Path, port: int = DEFAULT_PORT) -> None:
        self.port = port
        self.config_path = work_dir / "reader.conf"
        self.log_path = work_dir / "pcscd.log"
        self.config_path.write_text(render_reader_conf(port))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        binary = shutil.which("pcscd") or next((p for p in _PCSCD_PATHS if Path(p).exists()), None)
        if binary is None or not VPCD_DRIVER.exists():
            raise PcscdUnavailableError("pcscd or vsmartcard-vpcd is not installed; run `make test` to install them")
        other = _running_pid()
        if other is not None:
            raise PcscdUnavailableError(f"another pcscd (pid {other}) is running; only one can run per machine")
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [binary, "--foreground", "--config", str(self.config_path)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PcscdUnavailableError(f"pcscd exited: {self.log_path.read_text()[-2000:]}")
            if self._ready():
                return
            time.sleep(0.05)
        self.stop()
        raise PcscdUnavailableError("pcscd did not list the vpcd reader in time")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _ready(self) -> bool:
        context = scard.establish()
        if isinstance(context, LinkError):
            return False
        try:
            readers = scard.list_readers(context)
        finally:
            scard.release(context)
        return not isinstance(readers, LinkError) and any(name.startswith(READER_NAME) for name in readers)

    def __enter__(self) -> Pcscd:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _running_pid() -> int | None:
    try:
        pid = int(_PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None
