"""The district's view in `kiosk-center serve`: the fleet's telemetry intake and, if configured, the staff dashboard."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from center.config import CenterConfig, FleetConfig
from center.dashboard.app import DashboardContext, build_app
from center.dashboard.guard import own_hosts
from center.dashboard.server import DashboardServer, ServerTls
from center.dashboard.staff import StaffDesk, load_staff
from center.election_bundle import BundleRefused, configured_bundle
from center.enrolled import EnrolledTerminals
from center.fleet import FleetService, FleetSettings
from center.fleet.rules import RuleSettings
from center.fleet.settings import default_identity
from center.results_source import ResultsSource

log = logging.getLogger(__name__)


class DistrictView:
    """Started after the workers, stopped before them; `alive` joins the process's watchdog."""

    def __init__(self, fleet: FleetService, dashboard: DashboardServer | None,
                 results: ResultsSource | None = None) -> None:
        self.fleet = fleet
        self.dashboard = dashboard
        self.results = results

    def start(self) -> None:
        self.fleet.start()
        if self.dashboard is not None:
            self.dashboard.start()
            log.info("district dashboard on %s", self.dashboard.url)

    def alive(self) -> bool:
        return self.fleet.alive() and (self.dashboard is None or self.dashboard.alive)

    def stop(self) -> None:
        if self.dashboard is not None:
            self.dashboard.stop()
        if self.results is not None:
            self.results.close()
        self.fleet.stop()


def open_district_view(config: CenterConfig) -> DistrictView | None:
    """None without `[fleet]`. The election day is the config's; the rules' set hour and approved software are
    `[fleet]`'s. Raises OSError or ValueError when the dashboard's staff, certificate or token files are unusable."""
    fleet_config = config.fleet
    if fleet_config is None:
        return None
    enrolled = EnrolledTerminals(config.enrolment_ca) if config.enrolment_ca is not None else {}
    fleet = FleetService(config, _settings(config, fleet_config), enrolled)
    dashboard_config = config.dashboard
    if dashboard_config is None:
        return DistrictView(fleet, None)
    staff = StaffDesk(load_staff(dashboard_config.staff_file))
    token = _token(dashboard_config.metrics_token_file)
    results = _results(config)
    context = DashboardContext(fleet, staff, own_hosts(dashboard_config.names, dashboard_config.port), token,
                               results)
    server = DashboardServer(build_app(context), dashboard_config.host, dashboard_config.port,
                             ServerTls(dashboard_config.cert_file, dashboard_config.key_file))
    return DistrictView(fleet, server, results)


def _results(config: CenterConfig) -> ResultsSource:
    """The registry's view for the dashboard: the OFFLINE slips' reconciliation always, and with `[minutes]` the
    results; a bundle that does not load is logged and the results section says they are unavailable (the rest of
    the day goes on)."""
    if config.minutes is None:
        return ResultsSource(config, None)
    bundle = configured_bundle(config)
    if isinstance(bundle, BundleRefused):
        log.error("the dashboard shows no results: %s", bundle.detail)
        return ResultsSource(config, None)
    return ResultsSource(config, bundle)


def _settings(config: CenterConfig, fleet: FleetConfig) -> FleetSettings:
    rules = RuleSettings(config.election_day, fleet.opening, approved_software=frozenset(fleet.approved_software),
                         offline_after=timedelta(seconds=fleet.offline_after_s))
    return FleetSettings(default_identity(config), rules, keep=fleet.keep)


def _token(path: Path | None) -> str | None:
    if path is None:
        return None
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"{path}: a metrics token of at least 16 characters")
    return token
