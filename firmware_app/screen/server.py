"""The screen's server inside the terminal: uvicorn on loopback in a thread, and the status bar's watch."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import uvicorn

from firmware_app.runtime.health import FaultsOnce, HealthCheck, run_self_test
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
                 devices: Sequence[HealthCheck] = (), every_s: float = STATUS_EVERY_S) -> None:
        """`devices`: the health checks of the card reader and the camera, shown on the status bar."""
        self._model = model
        self._devices = list(devices)
        self._lock = threading.Lock()
        self._seen = Status()
        self._devices_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screen-devices")
        self._asking: Future[None] | None = None
        self._connected = connected
        self._printer = printer
        self._clock = clock
        self._fault = FaultsOnce(fault)
        self._devices_fault = FaultsOnce(fault)
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="screen-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._devices_pool.shutdown(wait=False, cancel_futures=True)

    def look(self) -> None:
        """The link, the printer and the clock; the other devices are asked on a thread of their own, so a slow
        one delays only its own pill on the status bar."""
        printer: PrinterStatus | None
        try:
            printer = self._printer.status()
        except Exception as exc:  # a driver bug: the status bar shows no printer state rather than stopping the watch
            self._fault("screen_printer_status", exc)
            printer = None
        self._fault.looked()
        now = self._clock()
        with self._lock:
            self._seen = Status(self._connected(), printer, minute_of(now), self._seen.devices,
                                now.replace(second=0, microsecond=0))
            self._model.status_seen(self._seen)
            asking = self._asking is not None and not self._asking.done()
        if self._devices and not asking:
            self._asking = self._devices_pool.submit(self._ask_devices)

    def _ask_devices(self) -> None:
        _, devices = run_self_test(self._devices, self._devices_fault)
        self._devices_fault.looked()
        with self._lock:
            self._seen = dataclasses.replace(self._seen, devices=tuple(devices))
            self._model.status_seen(self._seen)

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
