"""A terminal of the demo's district, in a process of its own, that opens its polls and then loses its power."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness.district import VirtualDistrict
from harness.terminal_proc import start_terminal

_START_S = 90.0
_OPEN = "polls open"


class LostTerminal:
    """Provisioned by the district and started at once (`python -m harness.lost_terminal`, its own MQTT session);
    `cut` kills it with SIGKILL, so that it says nothing more and the broker sends the will it gave at connect.
    A plain child process, so nothing of it outlives the demo (no multiprocessing helper process)."""

    def __init__(self, district: VirtualDistrict, name: str, branch: str, folder: Path) -> None:
        self.name, self.branch = name, branch
        provisioning = folder / "provisioning"
        district.provision(name, branch, provisioning)
        root = Path(__file__).resolve().parents[1]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "harness.lost_terminal", str(folder), str(provisioning),
             str(district.broker.address.port)],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def wait_open(self) -> None:
        """Until its polls are open; raises RuntimeError if they never are."""
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + _START_S
        while time.monotonic() < deadline:
            readable, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                break
            line = stdout.readline()
            if line.strip() == _OPEN:
                return
            if not line:
                break
        self.stop()
        raise RuntimeError(f"{self.name} did not open its polls within {_START_S:.0f} s")

    def cut(self) -> None:
        """The power goes: SIGKILL, and the process is reaped."""
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(10)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(10)
        if self._process.stdout is not None:
            self._process.stdout.close()


def main(argv: list[str]) -> None:
    """`python -m harness.lost_terminal WORK_DIR PROVISIONING PORT`: start, open the polls, say so, run on."""
    work_dir, provisioning, port = argv
    start_terminal(work_dir, provisioning, int(port), open_polls=True)
    print(_OPEN, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
