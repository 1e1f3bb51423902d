"""The dashboard's HTTPS server: uvicorn in a thread, with the district PKI's server certificate."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette


@dataclass(frozen=True)
class ServerTls:
    """The dashboard's certificate and key (center.pki.issue_dashboard writes them)."""

    cert_file: Path
    key_file: Path


class DashboardServer:
    """Serves the application on `host:port` over TLS 1.2 or newer while the center runs."""

    def __init__(self, app: Starlette, host: str, port: int, tls: ServerTls) -> None:
        self.host, self.port = host, port
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                                http="h11", ws="none", loop="asyncio", timeout_graceful_shutdown=1,
                                server_header=False, ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file),
                                ssl_version=int(ssl.PROTOCOL_TLS_SERVER))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="dashboard-web", daemon=True)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise RuntimeError(f"the dashboard could not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
