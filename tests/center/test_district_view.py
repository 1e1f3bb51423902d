"""`kiosk-center serve`'s district view: the fleet's intake and the TLS dashboard, started from the center's config."""

from __future__ import annotations

import dataclasses
import json
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from center.config import DashboardConfig, FleetConfig
from center.dashboard.staff import KdfParams, set_password
from center.district_view import open_district_view
from center.pki import KeyAndCertificate, issue_dashboard
from harness.broker import free_port
from tests.center.fleet.conftest import FleetDistrict, fleet_district

__all__ = ["fleet_district"]
pytestmark = pytest.mark.real_peer

TOKEN = "a-metrics-token-for-the-test"


def _get(url: str, context: ssl.SSLContext, headers: dict[str, str] | None = None,
         body: dict[str, str] | None = None) -> tuple[int, bytes, list[str]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read(), response.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), []


def test_serve_starts_the_fleet_and_the_dashboard_from_its_config(fleet_district: FleetDistrict, tmp_path: Path) -> None:
    port = free_port()
    issued = issue_dashboard(fleet_district.pki.ca, ["127.0.0.1"], tmp_path / "tls", datetime.now(UTC))
    assert isinstance(issued, KeyAndCertificate)
    staff_file, token_file = tmp_path / "staff.json", tmp_path / "metrics.token"
    assert set_password(staff_file, "staff-1", "a long enough password", KdfParams(n=2**4)) is None
    token_file.write_text(TOKEN)
    config = dataclasses.replace(
        fleet_district.center_config(tmp_path / "registry.sqlite"), fleet=FleetConfig(time(7, 0), offline_after_s=30),
        dashboard=DashboardConfig("127.0.0.1", port, ("127.0.0.1",), issued.cert_file, issued.key_file, staff_file,
                                  token_file))
    view = open_district_view(config)
    assert view is not None and view.dashboard is not None
    assert view.fleet.settings.rules.offline_after == timedelta(seconds=30)
    view.start()
    try:
        assert view.fleet.wait_connected(10), "the fleet's session did not reach the broker"
        assert view.alive()
        trusting_the_district = ssl.create_default_context(cafile=str(fleet_district.pki.ca.ca_path))
        url = view.dashboard.url
        status, page, _ = _get(url, trusting_the_district)
        assert status == 200 and b'lang="fa"' in page
        own = {"Origin": url.rstrip("/"), "Content-Type": "application/json"}
        status, _, cookies = _get(url + "api/sign-in", trusting_the_district, own,
                                  {"staff": "staff-1", "password": "a long enough password"})
        assert status == 200 and cookies
        status, snapshot, _ = _get(url + "api/snapshot", trusting_the_district, {"Cookie": cookies[0].split(";")[0]})
        assert status == 200 and json.loads(snapshot)["district"] == fleet_district.district
        assert _get(url + "metrics", trusting_the_district)[0] == 401
        assert _get(url + "metrics", trusting_the_district, {"Authorization": f"Bearer {TOKEN}"})[0] == 200
        with pytest.raises(urllib.error.URLError):
            _get(url, ssl.create_default_context())
    finally:
        view.stop()
    assert not view.alive()


def test_without_a_fleet_table_serve_runs_no_district_view(fleet_district: FleetDistrict, tmp_path: Path) -> None:
    assert open_district_view(fleet_district.center_config(tmp_path / "registry.sqlite")) is None


def test_a_short_metrics_token_stops_the_start_with_its_reason(fleet_district: FleetDistrict, tmp_path: Path) -> None:
    staff_file, token_file = tmp_path / "staff.json", tmp_path / "metrics.token"
    assert set_password(staff_file, "staff-1", "a long enough password", KdfParams(n=2**4)) is None
    token_file.write_text("short")
    config = dataclasses.replace(
        fleet_district.center_config(tmp_path / "registry.sqlite"), fleet=FleetConfig(),
        dashboard=DashboardConfig("127.0.0.1", free_port(), ("127.0.0.1",), tmp_path / "c.pem", tmp_path / "c.key",
                                  staff_file, token_file))
    with pytest.raises(ValueError, match="at least 16"):
        open_district_view(config)
