"""A virtual district's live dashboard: its fleet listener on the district broker, served over TLS with staff signed in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from center.dashboard.app import DashboardContext, build_app
from center.dashboard.guard import own_hosts
from center.dashboard.server import DashboardServer, ServerTls
from center.dashboard.staff import StaffDesk, load_staff, set_password
from center.election_bundle import BundleRefused, configured_bundle
from center.fleet import FleetService, FleetSettings
from center.fleet.rules import RuleSettings
from center.fleet.settings import default_identity
from center.pki import KeyAndCertificate, issue_dashboard
from center.results_source import ResultsSource
from harness.broker import free_port
from harness.district import VirtualDistrict

HOSTS = ("127.0.0.1", "localhost")
STAFF = "staff-1"


@dataclass(frozen=True)
class DashboardPlan:
    """`opening`: the district's set hour of opening (local time); `approved`: the software hashes it approved;
    `offline_after`: how long a terminal may be without a word before it is marked offline (`[fleet]
    offline_after_s`)."""

    folder: Path
    election_day: datetime
    opening: time
    approved: frozenset[str]
    port: int | None = None
    offline_after: timedelta = timedelta(seconds=90)


class DistrictDashboard:
    """The fleet listener (its own certificate, `<instance>-fleet`) and the dashboard on 127.0.0.1; the staff
    password is made for this run and kept only as a scrypt hash in the staff file."""

    def __init__(self, district: VirtualDistrict, plan: DashboardPlan) -> None:
        plan.folder.mkdir(parents=True, exist_ok=True)
        config = district.config
        rules = RuleSettings(plan.election_day.date(), plan.opening, approved_software=plan.approved,
                             offline_after=plan.offline_after)
        self.fleet = FleetService(config, FleetSettings(default_identity(config), rules), district.enrolled)
        self.staff = STAFF
        self.password = f"{secrets.token_hex(3)}-{secrets.token_hex(3)}"
        staff_file = plan.folder / "staff.json"
        problem = set_password(staff_file, STAFF, self.password)
        if problem is not None:
            raise RuntimeError(f"the staff password was refused: {problem}")
        port = plan.port or free_port()
        issued = issue_dashboard(district.pki.ca, list(HOSTS), plan.folder / "tls", datetime.now(UTC))
        if not isinstance(issued, KeyAndCertificate):
            raise RuntimeError(f"the dashboard's certificate was refused: {issued}")
        self.ca_file = district.pki.ca.ca_path
        """The district CA a staff browser must trust to open the dashboard."""
        bundle = configured_bundle(config)
        self.results = ResultsSource(config, None if isinstance(bundle, BundleRefused) else bundle, fresh_s=1.0,
                                     voter_key=district.voter_key)
        """The registry's view: the district's results and the reconciliation of its OFFLINE slips."""
        context = DashboardContext(self.fleet, StaffDesk(load_staff(staff_file)), own_hosts(HOSTS, port),
                                   results=self.results)
        self.server = DashboardServer(build_app(context), HOSTS[0], port, ServerTls(issued.cert_file, issued.key_file))

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.fleet.start()
        if not self.fleet.wait_connected(10):
            self.fleet.stop()
            raise RuntimeError("the fleet listener could not reach the district broker")
        self.server.start()

    def stop(self) -> None:
        self.server.stop()
        self.results.close()
        self.fleet.stop()
