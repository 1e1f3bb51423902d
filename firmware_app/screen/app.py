"""The screen's web application: the page, its snapshot and stream of changes, sign-in, and actions posted to the loop."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firmware_app.flow import texts
from firmware_app.flow.effects import Show
from firmware_app.flow.events import OverrideReason
from firmware_app.flow.notices import DocumentRefused
from firmware_app.flow.states import AwaitingConfirmation, State
from firmware_app.flow.step import Step
from firmware_app.runtime.loop import ActionNotTaken, Runtime
from firmware_app.screen.actions import ACTIONS, BODY_MAX, LARGEST_BODY, TYPED_TEXT_MAX, Brings, Given, Typed
from firmware_app.screen.guard import foreign
from firmware_app.screen.minutes_form import FormProblem, read_minutes_form
from firmware_app.screen.model import ScreenModel
from firmware_app.screen.photos import LiveView, card_photo
from firmware_app.screen.signin import Officials, Refused, SignedIn, SignInProblem
from firmware_app.screen.view import notice_view
from protocol.messages import DocumentKind
from protocol.national_code import NationalCodeRefusal, parse_national_code
from provisioning.pins import Role

STATIC = Path(__file__).parent / "static"
COOKIE_PREFIX = "kiosk_session_"
"""The session cookie's name ends with the port: cookies are not kept apart by port, pages on two ports are."""
ACTION_TIMEOUT_S = 10.0
KEEPALIVE_S = 15.0
AUDITS_PER_MINUTE = 30
"""Refused requests audited per minute at most; beyond that they are counted into the next audited one."""

_HEADERS = {
    "content-security-policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class ScreenContext:
    """What the web application works with: the loop (actions and audit entries go to it), the model it
    reads, the officials' sign-in, the terminal's clock, the port it is served on and the camera's view."""

    runtime: Runtime
    model: ScreenModel
    officials: Officials
    clock: Callable[[], datetime]
    port: int
    live: LiveView | None = None
    """The camera's view beside the card photo on the confirmation screen; None on a terminal without a camera."""


class _AuditBudget:
    """A flood of refused requests must not flood the journal: a few per minute, the rest counted."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._minute = ""
        self._used = 0
        self._dropped = 0

    def take(self) -> int | None:
        """None when over budget; else how many were dropped before this one."""
        minute = self._clock().strftime("%Y%m%d%H%M")
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used >= AUDITS_PER_MINUTE:
            self._dropped += 1
            return None
        self._used += 1
        dropped, self._dropped = self._dropped, 0
        return dropped


class _Guard:
    """ASGI middleware: a request from anything but the kiosk page is refused (403) and audited; every
    response gets the page's security headers."""

    def __init__(self, app: ASGIApp, refuse: Callable[[str, str, str], None], port: int) -> None:
        self._app = app
        self._refuse = refuse
        self._port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        reason = foreign(scope["method"], headers, self._port)
        if reason is not None:
            self._refuse(reason, scope["method"], scope["path"])
            await JSONResponse({"error": reason}, status_code=403, headers=_HEADERS)(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.encode(), v.encode()) for k, v in _HEADERS.items())]
            await send(message)

        await self._app(scope, receive, secured)


def build_app(context: ScreenContext) -> Starlette:
    """The Starlette application, guarded."""
    runtime, model, officials = context.runtime, context.model, context.officials
    cookie = f"{COOKIE_PREFIX}{context.port}"
    budget = _AuditBudget(context.clock)

    def audit(kind: str, detail: dict[str, str | int | None]) -> None:
        dropped = budget.take()
        if dropped is not None:
            runtime.audit_later(kind, {**detail, "dropped_before": dropped} if dropped else detail)

    def refuse(reason: str, method: str, path: str) -> None:
        audit("screen_refused", {"reason": reason, "method": method, "path": path})

    def forbidden(request: Request, reason: str) -> JSONResponse:
        refuse(reason, request.method, request.url.path)
        return JSONResponse({"error": reason}, status_code=403)

    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def session(request: Request) -> Response:
        role = officials.session(request.cookies.get(cookie))
        return JSONResponse({"signed_in": role is not None, "role": role.value if role else None,
                             "lock_after_s": officials.lock_after_s})

    async def sign_in(request: Request) -> Response:
        body = await _body(request)
        role = _role(body.get("role")) if body is not None else None
        pin = body.get("pin") if body is not None else None
        if role is None or not isinstance(pin, str) or len(pin) > 64:
            return JSONResponse({"error": "role and pin expected"}, status_code=400)
        outcome = await run_in_threadpool(officials.sign_in, role, pin)
        if isinstance(outcome, Refused):
            audit("screen_sign_in_refused", {"role": role.value, "problem": outcome.problem.value,
                                             "failures": outcome.failures, "locked_for_s": round(outcome.locked_for_s)})
            return JSONResponse({"signed_in": False, "problem": outcome.problem.value, "failures": outcome.failures,
                                 "locked_for_s": round(outcome.locked_for_s)}, status_code=403)
        audit("screen_signed_in", {"official": outcome.role.value})
        return _signed_in(outcome, cookie)

    async def sign_out(request: Request) -> Response:
        role = officials.sign_out(request.cookies.get(cookie))
        if role is not None:
            audit("screen_signed_out", {"official": role.value})
        response = JSONResponse({"signed_in": False})
        response.delete_cookie(cookie, path="/")
        return response

    async def snapshot(request: Request) -> Response:
        if officials.session(request.cookies.get(cookie)) is None:
            return forbidden(request, "no session")
        return JSONResponse(model.current().body)

    async def events(request: Request) -> Response:
        if officials.session(request.cookies.get(cookie)) is None:
            return forbidden(request, "no session")
        last = request.headers.get("last-event-id")
        return StreamingResponse(_stream(request.cookies.get(cookie), model, officials, last), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def card_picture(request: Request) -> Response:
        """The card photo of the person on the confirmation screen the page shows (`seen`), else 404."""
        if officials.session(request.cookies.get(cookie)) is None:
            return forbidden(request, "no session")
        shown = model.current()
        if request.query_params.get("seen") != str(shown.seen):
            return Response(status_code=404)
        jpeg = await run_in_threadpool(card_photo, shown.state)
        return Response(jpeg, media_type="image/jpeg") if jpeg is not None else Response(status_code=404)

    async def live_picture(request: Request) -> Response:
        """The camera's newest frame, only while a person is being confirmed; else 404."""
        if officials.session(request.cookies.get(cookie)) is None:
            return forbidden(request, "no session")
        live = context.live
        if live is None or not isinstance(model.current().state, AwaitingConfirmation):
            return Response(status_code=404)
        jpeg = await run_in_threadpool(live.jpeg)
        return Response(jpeg, media_type="image/jpeg") if jpeg is not None else Response(status_code=404)

    async def check_code(request: Request) -> Response:
        """What the typed text is, as the terminal's one rule says (protocol.national_code); never logged."""
        if officials.session(request.cookies.get(cookie)) is None:
            return forbidden(request, "no session")
        body = await _body(request)
        text = body.get("text") if body is not None else None
        if not isinstance(text, str) or len(text) > TYPED_TEXT_MAX:
            return JSONResponse({"error": "text expected"}, status_code=400)
        parsed = parse_national_code(text)
        if isinstance(parsed, NationalCodeRefusal):
            refused = DocumentRefused(parsed.problem, parsed.character, parsed.position, parsed.count)
            return JSONResponse({"valid": False, "problem": parsed.problem.name.lower(),
                                 "text": texts.render(refused)})
        return JSONResponse({"valid": True, "problem": None, "text": "کد ملی معتبر است."})

    async def act(request: Request) -> Response:
        role = officials.session(request.cookies.get(cookie), action=True)
        if role is None:
            return forbidden(request, "no session")
        raw = await _read(request, LARGEST_BODY)
        body = _json(raw) if raw is not None else None
        name = body.get("action") if body is not None else None
        spec = ACTIONS.get(name) if isinstance(name, str) else None
        if raw is None or body is None or spec is None or type(body.get("seen")) is not int:
            return JSONResponse({"error": "action and seen expected"}, status_code=400)
        if len(raw) > spec.body_max:
            return JSONResponse({"error": f"{name} takes {spec.body_max} bytes at most"}, status_code=413)
        given = _given(body, spec.brings)
        if isinstance(given, FormProblem):
            return JSONResponse({"error": "the minutes form is not whole", "field": given.field,
                                 "problem": given.problem, "text": given.text}, status_code=400)
        if given is None:
            return JSONResponse({"error": f"{spec.brings.value} expected"}, status_code=400)
        shown = model.current()
        if body["seen"] != shown.seen:
            audit("action_stale", {"action": name, "official": role.value, "state": type(shown.state).__name__})
            return _stale()
        official = role.value
        if spec.needs_head(shown.state):
            head_pin = body.get("head_pin")
            refused = (await run_in_threadpool(officials.verify, Role.HEAD, head_pin)
                       if isinstance(head_pin, str) and len(head_pin) <= 64 else Refused(SignInProblem.WRONG_PIN))
            if refused is not None:
                audit("screen_head_refused", {"action": name, "official": official, "problem": refused.problem.value,
                                              "failures": refused.failures})
                return JSONResponse({"accepted": False, "head_refused": refused.problem.value,
                                     "locked_for_s": round(refused.locked_for_s)}, status_code=403)
            official = f"{official}+{Role.HEAD.value}"
        given = dataclasses.replace(given, official=official)
        try:
            result = await _taken(runtime, spec.event(context.clock(), given), official, shown.state)
        except TimeoutError:
            return JSONResponse({"accepted": False, "refusal": "the terminal did not take the action in time"},
                                status_code=504)
        if result is ActionNotTaken.STALE:
            return _stale()
        if result is ActionNotTaken.FAULT:
            return JSONResponse({"accepted": False, "fault": True,
                                 "refusal": "the terminal met an error taking the action (recorded); the screen shows where it is now"},
                                status_code=500)
        notices = [notice_view(effect.notice) for effect in result.effects if isinstance(effect, Show)]
        return JSONResponse({"accepted": result.refusal is None, "refusal": result.refusal, "notices": notices,
                             "state": type(result.state).__name__})

    routes = [
        Route("/", page), Route("/api/session", session), Route("/api/sign-in", sign_in, methods=["POST"]),
        Route("/api/sign-out", sign_out, methods=["POST"]), Route("/api/snapshot", snapshot),
        Route("/api/events", events), Route("/api/national-code/check", check_code, methods=["POST"]),
        Route("/api/photo/card", card_picture), Route("/api/photo/live", live_picture),
        Route("/api/action", act, methods=["POST"]), Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_Guard, refuse=refuse, port=context.port)
    return app


def _signed_in(outcome: SignedIn, cookie: str) -> Response:
    response = JSONResponse({"signed_in": True, "role": outcome.role.value})
    response.set_cookie(cookie, outcome.token, httponly=True, samesite="strict", path="/")
    return response


def _stale() -> Response:
    return JSONResponse({"accepted": False, "stale": True, "refusal": "the screen had changed; nothing was done"},
                        status_code=409)


def _role(value: object) -> Role | None:
    return Role(value) if isinstance(value, str) and value in {role.value for role in Role} else None


def _given(body: dict[str, Any], brings: Brings) -> Given | FormProblem | None:
    """What the action must bring, from the request's body; None when it is missing or malformed, and what is
    wrong with a minutes form."""
    match brings:
        case Brings.NOTHING:
            return Given()
        case Brings.TYPED_CODE:
            text, document = body.get("text"), body.get("document")
            if not isinstance(text, str) or len(text) > TYPED_TEXT_MAX or document not in _DOCUMENT_KINDS:
                return None
            return Given(typed=Typed(text, DocumentKind(document)))
        case Brings.PERMIT_CODE:
            code = body.get("code")
            return Given(permit_code=code) if isinstance(code, str) and len(code) <= TYPED_TEXT_MAX else None
        case Brings.REASON:
            reason = body.get("reason")
            return Given(reason=OverrideReason(reason)) if reason in _OVERRIDE_REASONS else None
        case Brings.MINUTES:
            figures = read_minutes_form(body.get("minutes"))
            return figures if isinstance(figures, FormProblem) else Given(figures=figures)


_DOCUMENT_KINDS = frozenset(kind.value for kind in DocumentKind)
_OVERRIDE_REASONS = frozenset(reason.value for reason in OverrideReason)


async def _body(request: Request) -> dict[str, Any] | None:
    """A small JSON object, or None."""
    raw = await _read(request, BODY_MAX)
    return _json(raw) if raw is not None else None


async def _read(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it is longer than `limit` (the rest is not read)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            return None
    return bytes(raw)


def _json(raw: bytes) -> dict[str, Any] | None:
    """A JSON object, or None (not JSON, not UTF-8, or nested deeper than the parser recurses)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


async def _taken(runtime: Runtime, event: Any, official: str, seen: State) -> Step[State] | ActionNotTaken:
    """Post the action to the loop and wait for its step, or why it gave none."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Step[State] | ActionNotTaken] = loop.create_future()

    def settle(result: Step[State] | ActionNotTaken) -> None:
        if not future.done():
            future.set_result(result)

    def done(result: Step[State] | ActionNotTaken) -> None:
        loop.call_soon_threadsafe(settle, result)

    runtime.act(event, official, seen, done)
    return await asyncio.wait_for(future, ACTION_TIMEOUT_S)


async def _stream(token: str | None, model: ScreenModel, officials: Officials,
                  last: str | None) -> AsyncIterator[str]:
    """Server-sent events: each snapshot once, with its id; a page that reconnects with the id it last had
    gets the current snapshot at once if anything changed meanwhile. The stream ends with the session."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    unwatch = model.watch(loop, changed)
    try:
        yield "retry: 1000\n\n"
        while not model.closed:
            current = model.current()
            if current.event_id != last:
                last = current.event_id
                yield f"id: {current.event_id}\nevent: snapshot\ndata: {json.dumps(current.body)}\n\n"
            try:
                await asyncio.wait_for(changed.wait(), KEEPALIVE_S)
            except TimeoutError:
                if officials.session(token) is None:
                    yield "event: signed_out\ndata: {}\n\n"
                    return
                yield ": keep-alive\n\n"
            changed.clear()
    finally:
        unwatch()
