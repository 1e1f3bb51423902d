"""The dashboard's web application: the page, staff sign-in, the fleet's snapshot and live stream, the district's
results, acknowledging alerts, and /metrics; every request guarded, every response with the page's security
headers."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from center.dashboard.guard import foreign
from center.dashboard.metrics import exposition, metrics_registry
from center.dashboard.reconcile_view import reconcile_view
from center.dashboard.results_view import results_view
from center.dashboard.staff import Session, SignInRefused, StaffDesk
from center.dashboard.view import snapshot_view
from center.fleet.alerts import Alert, AuditDetail, AuditKind
from center.fleet.snapshot import FleetSnapshot
from center.reconcile import ReconcileRecord
from center.results import DistrictResults

STATIC = Path(__file__).parent / "static"
COOKIE = "__Host-vk_dashboard"
"""`__Host-`: the browser keeps it only if Secure, for this host alone, on path /."""
CSRF_HEADER = "x-csrf-token"
BODY_MAX = 4096
TICK_S = 2.0
"""The stream looks at the fleet this often (the clock moves terminals to offline without a message)."""
MIN_GAP_S = 1.0
KEEPALIVE_S = 15.0
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_HEADERS = {
    "content-security-policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    "strict-transport-security": "max-age=31536000",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class FleetView(Protocol):
    """What the dashboard needs of the fleet (center.fleet.FleetService is one)."""

    district: str

    def snapshot(self) -> FleetSnapshot: ...

    def acknowledge(self, alert_id: int, staff: str) -> Alert | None: ...

    def audit(self, kind: AuditKind, detail: AuditDetail) -> None: ...

    def watch(self, watcher: Callable[[], None]) -> Callable[[], None]: ...


class ResultsView(Protocol):
    """Where the dashboard gets the district's results (center.results_source.ResultsSource is one): None when
    they cannot be had (no election bundle, the registry away)."""

    def results(self) -> DistrictResults | None: ...

    def reconciliation(self) -> list[ReconcileRecord] | None: ...


@dataclass(frozen=True)
class DashboardContext:
    """`hosts`: the Host values the dashboard answers (`name:port`, see guard.own_hosts). `metrics_token`: the
    bearer token Prometheus must send to /metrics; None leaves /metrics open (a scrape network of its own).
    `results`: the district's results from the registry (none: the results section says they are unavailable)."""

    fleet: FleetView
    staff: StaffDesk
    hosts: frozenset[str]
    metrics_token: str | None = None
    results: ResultsView | None = None


class _Guard:
    """ASGI middleware: a request not from the dashboard's own page is refused (403) and audited."""

    def __init__(self, app: ASGIApp, refuse: Callable[[str, str, str], None], hosts: frozenset[str]) -> None:
        self._app, self._refuse, self._hosts = app, refuse, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        reason = foreign(scope["method"], headers, self._hosts)
        if reason is not None and scope["path"] != "/metrics":
            self._refuse(reason, scope["method"], scope["path"])
            await JSONResponse({"error": reason}, status_code=403, headers=_HEADERS)(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.encode(), v.encode()) for k, v in _HEADERS.items())]
            await send(message)

        await self._app(scope, receive, secured)


def build_app(context: DashboardContext) -> Starlette:
    """The Starlette application, guarded."""
    fleet, staff = context.fleet, context.staff
    registry = metrics_registry(fleet.snapshot)

    def audit(kind: AuditKind, detail: AuditDetail) -> None:
        fleet.audit(kind, detail)

    def refuse(reason: str, method: str, path: str) -> None:
        audit(AuditKind.REQUEST_REFUSED, {"reason": reason, "method": method[:8], "path": path[:64]})

    def signed_in(request: Request, *, posting: bool = False) -> Session | None:
        session = staff.session(request.cookies.get(COOKIE))
        if session is None:
            return None
        if posting and not secrets.compare_digest(request.headers.get(CSRF_HEADER, ""), session.csrf):
            return None
        return session

    def forbidden(request: Request, reason: str) -> JSONResponse:
        refuse(reason, request.method, request.url.path)
        return JSONResponse({"error": reason}, status_code=403)

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def session_of(request: Request) -> Response:
        session = signed_in(request)
        return JSONResponse({"signed_in": session is not None, "district": fleet.district,
                             "staff": session.staff if session else None, "csrf": session.csrf if session else None})

    async def sign_in(request: Request) -> Response:
        body = await _body(request)
        who = body.get("staff") if body is not None else None
        password = body.get("password") if body is not None else None
        if not isinstance(who, str) or not isinstance(password, str) or len(who) > 64:
            return JSONResponse({"error": "staff and password expected"}, status_code=400)
        outcome = await run_in_threadpool(staff.sign_in, who, password)
        if isinstance(outcome, SignInRefused):
            await run_in_threadpool(audit, AuditKind.STAFF_SIGN_IN_REFUSED,
                                    {"problem": outcome.problem.value, "locked_for_s": round(outcome.locked_for_s)})
            return JSONResponse({"signed_in": False, "problem": outcome.problem.value,
                                 "locked_for_s": round(outcome.locked_for_s)}, status_code=403)
        await run_in_threadpool(audit, AuditKind.STAFF_SIGNED_IN, {"staff": outcome.staff})
        response = JSONResponse({"signed_in": True, "staff": outcome.staff, "csrf": outcome.csrf})
        response.set_cookie(COOKIE, outcome.token, httponly=True, secure=True, samesite="strict", path="/")
        return response

    async def sign_out(request: Request) -> Response:
        if signed_in(request, posting=True) is None:
            return forbidden(request, "no session")
        ended = staff.sign_out(request.cookies.get(COOKIE))
        if ended is not None:
            await run_in_threadpool(audit, AuditKind.STAFF_SIGNED_OUT, {"staff": ended.staff})
        response = JSONResponse({"signed_in": False})
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    async def snapshot(request: Request) -> Response:
        if signed_in(request) is None:
            return forbidden(request, "no session")
        return JSONResponse(snapshot_view(await run_in_threadpool(fleet.snapshot)))

    def shown_results() -> dict[str, Any]:
        source = context.results
        return {**results_view(source.results() if source is not None else None),
                "offline": reconcile_view(source.reconciliation() if source is not None else None)}

    async def results(request: Request) -> Response:
        if signed_in(request) is None:
            return forbidden(request, "no session")
        return JSONResponse(await run_in_threadpool(shown_results))

    async def events(request: Request) -> Response:
        if signed_in(request) is None:
            return forbidden(request, "no session")
        return StreamingResponse(_stream(request.cookies.get(COOKIE), fleet, staff, shown_results),
                                 media_type="text/event-stream", headers={"x-accel-buffering": "no"})

    async def acknowledge(request: Request) -> Response:
        session = signed_in(request, posting=True)
        if session is None:
            return forbidden(request, "no session")
        alert = await run_in_threadpool(fleet.acknowledge, int(request.path_params["alert"]), session.staff)
        if alert is None:
            return JSONResponse({"acknowledged": False}, status_code=409)
        return JSONResponse({"acknowledged": True, "alert": alert.id})

    async def metrics(request: Request) -> Response:
        token = context.metrics_token
        given = request.headers.get("authorization", "")
        if token is not None and not secrets.compare_digest(given, f"Bearer {token}"):
            return JSONResponse({"error": "bearer token expected"}, status_code=401)
        return Response(await run_in_threadpool(exposition, registry), media_type=METRICS_TYPE)

    routes = [
        Route("/", page), Route("/api/session", session_of), Route("/api/sign-in", sign_in, methods=["POST"]),
        Route("/api/sign-out", sign_out, methods=["POST"]), Route("/api/snapshot", snapshot),
        Route("/api/results", results),
        Route("/api/events", events), Route("/api/alerts/{alert:int}/acknowledge", acknowledge, methods=["POST"]),
        Route("/metrics", metrics), Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_Guard, refuse=refuse, hosts=context.hosts)
    return app


async def _body(request: Request) -> dict[str, Any] | None:
    """A small JSON object, or None."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > BODY_MAX:
            return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser recurses
        return None
    return data if isinstance(data, dict) else None


async def _stream(token: str | None, fleet: FleetView, staff: StaffDesk,
                  results: Callable[[], dict[str, Any]]) -> AsyncIterator[str]:
    """Server-sent events: the view whenever it changed, looked at after each change of the fleet (at most once
    a MIN_GAP_S) and every TICK_S (the clock alone turns a silent terminal offline); the results whenever they
    changed (their source reads the registry at most every so often); a comment keeps the connection open; the
    stream ends with the session."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def notify() -> None:
        loop.call_soon_threadsafe(changed.set)

    unwatch = fleet.watch(notify)
    last, last_results, quiet = "", "", 0.0
    try:
        yield "retry: 2000\n\n"
        while True:
            if staff.session(token) is None:
                yield "event: signed_out\ndata: {}\n\n"
                return
            changed.clear()
            shown = json.dumps(snapshot_view(await run_in_threadpool(fleet.snapshot)), ensure_ascii=False)
            counted = json.dumps(await run_in_threadpool(results), ensure_ascii=False)
            if counted != last_results:
                last_results, quiet = counted, 0.0
                yield f"event: results\ndata: {counted}\n\n"
            if shown != last:
                last, quiet = shown, 0.0
                yield f"event: snapshot\ndata: {shown}\n\n"
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            try:
                await asyncio.wait_for(changed.wait(), TICK_S)
            except TimeoutError:
                quiet += TICK_S
            await asyncio.sleep(MIN_GAP_S)
            quiet += MIN_GAP_S
    finally:
        unwatch()
