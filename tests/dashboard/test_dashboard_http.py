"""The dashboard's HTTPS server without a browser: its certificate from the district CA, the guard, sign-in with
lock-out, CSRF on every POST, and /metrics with its bearer token, all against the real fleet and broker."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families

from center.dashboard.app import COOKIE, CSRF_HEADER
from center.dashboard.staff import MAX_FAILURES
from center.fleet.rules import Condition
from tests.dashboard.conftest import METRICS_TOKEN, PASSWORD, STAFF, Dashboard, play_the_morning

pytestmark = pytest.mark.real_peer


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    cookies: dict[str, str]

    def json(self) -> dict[str, object]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


def call(board: Dashboard, path: str, method: str = "GET", body: object = None,
         headers: dict[str, str] | None = None) -> Reply:
    origin = board.url.rstrip("/")
    sent = {"origin": origin, "content-type": "application/json"} if method == "POST" else {}
    sent.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(board.url.rstrip("/") + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=10, context=board.tls()) as response:
            status, raw, cookies = response.status, response.read(), response.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as refused:
        status, raw, cookies = refused.code, refused.read(), refused.headers.get_all("set-cookie") or []
    found = {}
    for line in cookies:
        name, _, rest = line.partition("=")
        found[name] = rest.split(";")[0]
    return Reply(status, raw, found)


def signed_in(board: Dashboard) -> tuple[dict[str, str], str]:
    reply = call(board, "/api/sign-in", "POST", {"staff": STAFF, "password": PASSWORD})
    assert reply.status == 200, reply
    csrf = reply.json()["csrf"]
    assert isinstance(csrf, str)
    return {"cookie": f"{COOKIE}={reply.cookies[COOKIE]}"}, csrf


def test_the_guard_the_session_and_csrf_protect_every_change(dashboard: Dashboard) -> None:
    play_the_morning(dashboard)
    assert call(dashboard, "/api/snapshot").status == 403
    assert call(dashboard, "/api/sign-in", "POST", {"staff": STAFF, "password": PASSWORD},
                {"origin": "https://evil.example"}).status == 403
    assert call(dashboard, "/api/snapshot", headers={"host": "evil.example"}).status == 403
    assert call(dashboard, "/api/sign-in", "POST", {"staff": STAFF, "password": PASSWORD},
                {"content-type": "text/plain"}).status == 403
    cookie, csrf = signed_in(dashboard)
    snapshot = call(dashboard, "/api/snapshot", headers=cookie)
    assert snapshot.status == 200
    view = snapshot.json()
    assert isinstance(view["branches"], list) and len(view["branches"]) == 3
    alert = next(a for a in dashboard.fleet.snapshot().alerts if a.condition is Condition.PRINTER)
    path = f"/api/alerts/{alert.id}/acknowledge"
    assert call(dashboard, path, "POST", {}, cookie).status == 403, "a POST without the CSRF token"
    assert call(dashboard, path, "POST", {}, {**cookie, CSRF_HEADER: "forged"}).status == 403
    assert call(dashboard, path, "POST", {}, {**cookie, CSRF_HEADER: csrf}).status == 200
    assert call(dashboard, path, "POST", {}, {**cookie, CSRF_HEADER: csrf}).status == 409, "acknowledged twice"
    assert call(dashboard, "/api/sign-out", "POST", {}, {**cookie, CSRF_HEADER: csrf}).status == 200
    assert call(dashboard, "/api/snapshot", headers=cookie).status == 403, "the session outlived its sign-out"


def test_wrong_passwords_lock_the_account_out_and_the_right_one_then_waits(dashboard: Dashboard) -> None:
    for _ in range(MAX_FAILURES - 1):
        reply = call(dashboard, "/api/sign-in", "POST", {"staff": STAFF, "password": "wrong password!"})
        assert reply.status == 403 and reply.json()["problem"] == "wrong"
    unknown = call(dashboard, "/api/sign-in", "POST", {"staff": "nobody", "password": "wrong password!"})
    assert unknown.json()["problem"] == "wrong", "an unknown account must look like a wrong password"
    last = call(dashboard, "/api/sign-in", "POST", {"staff": STAFF, "password": "wrong password!"})
    assert last.json()["problem"] == "locked_out"
    locked = call(dashboard, "/api/sign-in", "POST", {"staff": STAFF, "password": PASSWORD})
    assert locked.status == 403 and locked.json()["problem"] == "locked_out"


def test_metrics_need_the_token_and_expose_the_dashboard_s_figures(dashboard: Dashboard) -> None:
    play_the_morning(dashboard)
    assert call(dashboard, "/metrics").status == 401
    reply = call(dashboard, "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert reply.status == 200
    district = dashboard.district.district
    samples = [sample for family in text_string_to_metric_families(reply.body.decode()) for sample in family.samples]

    def value(name: str, **labels: str) -> float:
        wanted = {"district": district, **labels}
        found = [s.value for s in samples if s.name == name and s.labels == wanted]
        assert len(found) == 1, f"{name}{wanted}: {found}"
        return float(found[0])

    shot = dashboard.fleet.snapshot()
    assert value("vk_fleet_terminals", link="online") == shot.totals.online == 2
    assert value("vk_fleet_terminals_by_colour", colour="red") == 3
    assert value("vk_fleet_branches", opening="not_opened") == 1
    assert value("vk_fleet_alerts", condition="printer", state="open") == 1
    assert value("vk_fleet_day_count", counter="issued") == shot.totals.counters["issued"]
    assert value("vk_fleet_messages_total", outcome="applied") >= 8
    assert value("vk_fleet_refused_total", reason="bad_signature") == 0
    assert value("vk_fleet_unsaved_total") == shot.intake.unsaved == 0
    assert sum(f.issued for f in shot.hours) == sum(s.value for s in samples if s.name == "vk_fleet_issued_in_hour")
