"""The screen's server inside the terminal: uvicorn on loopback in a thread, and the status bar's watch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import uvicorn

from firmware_app.screen.app import ScreenContext, build_app
from firmware_app.screen.model import ScreenModel, Status, minute_of
from hal.printer import Printer, PrinterStatus

HOST = "127.0.0.1"
"""Loopback only: the kiosk browser on the device is the one client."""
STATUS_EVERY_S = 2.0


class StatusWatch:
    """Asks the link and the printer how they are, and reads the clock, every few seconds on its own thread (a
    printer busy printing answers after the job, so the web threads never wait on it). A driver that raises is a
    bug: `fault` hands it to the loop, which audits it and counts it on the status bar."""

    def __init__(self, model: ScreenModel, connected: Callable[[], bool], printer: Printer,
                 clock: Callable[[], datetime], fault: Callable[[str, Exception], None],
                 every_s: float = STATUS_EVERY_S) -> None:
        self._model = model
        self._connected = connected
        self._printer = printer
        self._clock = clock
        self._fault = fault
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="screen-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def look(self) -> None:
        printer: PrinterStatus | None
        try:
            printer = self._printer.status()
        except Exception as exc:  # a driver bug: the status bar shows no printer state rather than stopping the watch
            self._fault("screen_printer_status", exc)
            printer = None
        self._model.status_seen(Status(self._connected(), printer, minute_of(self._clock())))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self._every_s)


class ScreenServer:
    """Serves the screen on 127.0.0.1:`port` while the terminal runs."""

    def __init__(self, context: ScreenContext, watch: StatusWatch) -> None:
        self.port = context.port
        self._model = context.model
        self._watch = watch
        config = uvicorn.Config(build_app(context), host=HOST, port=context.port, log_level="warning",
                                access_log=False, lifespan="off", http="h11", ws="none", loop="asyncio",
                                timeout_graceful_shutdown=1, server_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="screen-web", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self, timeout: float = 10.0) -> None:
        self._watch.look()
        self._watch.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise RuntimeError(f"the operator screen could not listen on {HOST}:{self.port}")

    def stop(self) -> None:
        self._model.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._watch.stop()
