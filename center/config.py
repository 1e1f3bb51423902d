"""The district center's configuration: one TOML file, every option checked at start-up, unknown keys refused."""

from __future__ import annotations

import enum
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from center.storage import PostgresSettings, RegistryLocation
from protocol.messages import NAME_PATTERN
from protocol.mqtt import BrokerAddress, TlsFiles
from protocol.voted_snapshot import MAX_TAG_BITS, MIN_TAG_BITS

MAX_WORKERS = 64
"""Worker sessions of one worker process (`workers`)."""
MAX_WORKER_PROCESSES = 32
DEFAULT_REQUEST_WINDOW_SECONDS = 300
DEFAULT_INSTANCE = "center-1"
DEFAULT_REQUESTS_PER_TERMINAL_SECOND = 20
DEFAULT_ANSWERS_PER_TERMINAL = 50_000
DEFAULT_POOL_SIZE = 4
MAX_POOL_SIZE = 256
MAX_HOSTS = 16
ENGINES = ("sqlite", "postgresql")


def default_worker_processes() -> int:
    """One worker process per core this process may run on (at most MAX_WORKER_PROCESSES)."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKER_PROCESSES))


def worker_name(instance: str, index: int) -> str:
    """Worker `index` (from 1) of the center process `instance`: the CN of that worker's own certificate, and so
    its broker username and client id (the center's listener forces the client id to the CN)."""
    return f"{instance}-w{index}"


@dataclass(frozen=True)
class CenterTls:
    """Mutual TLS for the center's workers: the CA of the broker's certificate, and the folder with each
    worker's own certificate and key, `<worker name>.pem` and `<worker name>.key` (as `kiosk-center ca center
    --name INSTANCE --workers N` writes them)."""

    ca_file: Path
    cert_dir: Path

    def files(self, worker: str) -> TlsFiles:
        return TlsFiles(self.ca_file, self.cert_dir / f"{worker}.pem", self.cert_dir / f"{worker}.key")


@dataclass(frozen=True)
class CenterConfig:
    """Where the registry lives, who the center is, and how it reaches the district broker."""

    district: str
    instance: str
    """This center process's name on the district broker: its workers are `<instance>-w1` ... `-w<workers>`
    (`worker_name`), each connecting with its own certificate of that CN. Distinct per process of a district."""
    election_day: date
    database: RegistryLocation
    """The registry: an SQLite file (the embedded engine, one district), or the national PostgreSQL that every
    district center shares (`[registry]` with engine = "postgresql")."""
    signing_key: Path
    sealing_key: Path
    broker: BrokerAddress
    tls: CenterTls | None
    workers: int
    group: str
    enrolment_ca: Path | None = None
    """The district CA's folder: enrolment keeps each terminal's signing key there (none: no terminal is known)."""
    request_window_seconds: int = DEFAULT_REQUEST_WINDOW_SECONDS
    """A new request sent further than this from the center's time is refused as stale."""
    requests_per_terminal_second: int = DEFAULT_REQUESTS_PER_TERMINAL_SECOND
    """Each worker answers a terminal at most this many requests a second on average (bursts of ten times
    as many); a terminal sends a few per voter, so only a flood, or a load generator, reaches it."""
    answers_per_terminal: int = DEFAULT_ANSWERS_PER_TERMINAL
    """The center gives one terminal at most this many answers; past it, its new requests are refused."""
    voter_key: Path | None = None
    """The national voter key (kiosk-center voter-key): the registry keeps each voter as an HMAC under it, so the
    same person is the same row in every district. None (SQLite only): derived from this center's sealing key."""
    worker_processes: int = 1
    """`kiosk-center serve` runs this many worker processes, each with `workers` sessions and a registry pool of
    its own; process p's workers are numbered (p-1)·workers+1 ... p·workers (default in the file: the cores)."""
    fleet: FleetConfig | None = None
    """With `[fleet]`, `kiosk-center serve` also takes the terminals' telemetry (its own session, `<instance>-fleet`)."""
    dashboard: DashboardConfig | None = None
    minutes: MinutesConfig | None = None
    """With `[minutes]`, the district's election bundle: the minutes are checked against it, aggregated by it
    (`kiosk-center minutes export`) and shown on the dashboard."""
    snapshot: SnapshotConfig | None = None
    """With `[snapshot]`, `kiosk-center serve` also publishes the "already voted" snapshot for the district's
    terminals (center.snapshot_publisher; its own session, `<instance>-snapshot`)."""


class SnapshotScope(enum.StrEnum):
    DISTRICT = "district"
    """The voters committed in this district: small, and blind to the voters who go to another district."""
    NATION = "nation"
    """Every voter committed in the country (the registry is national): catches more, costs far more traffic."""


@dataclass(frozen=True)
class SnapshotConfig:
    """`[snapshot]`: which voters (`scope`), a new version every `interval_s` seconds, a FULL version every
    `full_every` versions (a DELTA between), the tags' width (`tag_bits`: false hits about n / 2^tag_bits), and
    how far behind the clock a version stops (`lag_s`), so a commit still under way is never left out of a delta."""

    scope: SnapshotScope = SnapshotScope.DISTRICT
    interval_s: int = 900
    full_every: int = 8
    tag_bits: int = 32
    lag_s: int = 30


@dataclass(frozen=True)
class MinutesConfig:
    """`[minutes]`: `bundle_file`, the district's signed election bundle (the compact JWS that enrolment signs with
    the district CA's enrolment key into each terminal's folder); center.election_bundle verifies it with that key's
    public part in `enrolment_ca` when it is loaded."""

    bundle_file: Path


@dataclass(frozen=True)
class FleetConfig:
    """`[fleet]`: the district's telemetry intake (center.fleet): the set hour of opening (local time), the software
    hashes the district approved (empty: that rule is off), the reports kept per terminal and how long a terminal
    may go without a word before it is marked offline."""

    opening: time = time(7, 0)
    approved_software: tuple[str, ...] = ()
    keep: int = 240
    offline_after_s: int = 90


@dataclass(frozen=True)
class DashboardConfig:
    """`[dashboard]`: the staff's live view (center.dashboard), over TLS with a certificate of the district CA
    (`kiosk-center ca dashboard`), staff from `staff_file` (`kiosk-center staff set-password`); `names`: the host
    names staff browsers use (the Host header must be one of them); `metrics_token_file`: the bearer token
    Prometheus sends to /metrics (none: /metrics is open to whoever reaches the port)."""

    host: str
    port: int
    names: tuple[str, ...]
    cert_file: Path
    key_file: Path
    staff_file: Path
    metrics_token_file: Path | None = None


@dataclass(frozen=True)
class ConfigRefused:
    """The file was not accepted; `problems` name each key and what is wrong with it."""

    problems: tuple[str, ...]


class _Reader:
    """Reads one table's options, remembering every problem instead of stopping at the first."""

    def __init__(self, table: dict[str, Any], where: str, base_dir: Path, problems: list[str]) -> None:
        self._table = table
        self._where = where
        self._base_dir = base_dir
        self._problems = problems
        self._read: set[str] = set()

    def _get(self, key: str, kind: type, default: Any = None) -> Any:
        self._read.add(key)
        if key not in self._table:
            if default is None:
                self._problems.append(f"{self._where}{key}: missing")
            return default
        value = self._table[key]
        if type(value) is not kind:
            self._problems.append(f"{self._where}{key}: expected {kind.__name__}")
            return default
        return value

    def name(self, key: str, default: str | None = None) -> str:
        value: str | None = self._get(key, str, default)
        if value is not None and not _valid_name(value):
            self._problems.append(f"{self._where}{key}: letters, digits and '-', at most 32")
        return value or ""

    def text(self, key: str) -> str:
        value: str | None = self._get(key, str)
        return value or ""

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value: int | None = self._get(key, int, default)
        if value is not None and not low <= value <= high:
            self._problems.append(f"{self._where}{key}: must be from {low} to {high}")
        return low if value is None else value

    def day(self, key: str) -> date:
        value: date | None = self._get(key, date)
        return value or date.min

    def path(self, key: str) -> Path:
        value: str | None = self._get(key, str)
        return self._base_dir / value if value else self._base_dir

    def optional_path(self, key: str) -> Path | None:
        value: str | None = self._get(key, str, "")
        return self._base_dir / value if value else None

    def strings(self, key: str) -> tuple[str, ...] | None:
        """An optional array of strings; None when absent or not one (a problem then)."""
        self._read.add(key)
        if key not in self._table:
            return None
        value = self._table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._problems.append(f"{self._where}{key}: expected an array of strings")
            return None
        return tuple(value)

    def table(self, key: str) -> dict[str, Any] | None:
        self._read.add(key)
        value = self._table.get(key)
        if value is not None and not isinstance(value, dict):
            self._problems.append(f"{self._where}{key}: expected a table")
            return None
        return value

    def keys(self) -> set[str]:
        return set(self._table)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def refuse_unknown(self, ignoring: set[str] | None = None) -> None:
        """Name every key not read; `ignoring`: keys already reported otherwise."""
        for key in sorted(self._table.keys() - self._read - (ignoring or set())):
            self._problems.append(f"{self._where}{key}: unknown option")


def _valid_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value, flags=re.ASCII) is not None


def load_center_config(path: Path) -> CenterConfig | ConfigRefused:
    """Read and check a center config file; relative paths are taken from the file's folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ConfigRefused((f"{path}: {exc}",))
    return parse_center_config(data, path.parent)


def parse_center_config(data: dict[str, Any], base_dir: Path) -> CenterConfig | ConfigRefused:
    problems: list[str] = []
    top = _Reader(data, "", base_dir, problems)
    district = top.name("district")
    instance = top.name("instance", DEFAULT_INSTANCE)
    election_day = top.day("election_day")
    database_path = top.optional_path("database")
    signing_key = top.path("signing_key")
    sealing_key = top.path("sealing_key")
    workers = top.integer("workers", 1, MAX_WORKERS, 1)
    processes = top.integer("worker_processes", 1, MAX_WORKER_PROCESSES, default_worker_processes())
    group = top.name("group", "center")
    enrolment_ca = top.optional_path("enrolment_ca")
    request_window = top.integer("request_window_seconds", 10, 3600, DEFAULT_REQUEST_WINDOW_SECONDS)
    rate = top.integer("requests_per_terminal_second", 1, 1_000_000, DEFAULT_REQUESTS_PER_TERMINAL_SECOND)
    quota = top.integer("answers_per_terminal", 100, 100_000_000, DEFAULT_ANSWERS_PER_TERMINAL)
    broker_table = top.table("broker")
    registry_table = top.table("registry")
    fleet_table = top.table("fleet")
    dashboard_table = top.table("dashboard")
    minutes_table = top.table("minutes")
    snapshot_table = top.table("snapshot")
    top.refuse_unknown()
    snapshot = (_snapshot(_Reader(snapshot_table, "snapshot.", base_dir, problems), problems)
                if snapshot_table is not None else None)
    minutes = (_minutes(_Reader(minutes_table, "minutes.", base_dir, problems), problems)
               if minutes_table is not None else None)
    fleet = _fleet(_Reader(fleet_table, "fleet.", base_dir, problems), problems) if fleet_table is not None else None
    dashboard = (_dashboard(_Reader(dashboard_table, "dashboard.", base_dir, problems), problems)
                 if dashboard_table is not None else None)
    if minutes is not None and enrolment_ca is None:
        problems.append("minutes: needs enrolment_ca (the election bundle is signed with the district CA's enrolment "
                        "key, kept there)")
    if dashboard is not None and fleet is None:
        problems.append("dashboard: needs [fleet] (the dashboard shows what the fleet takes in)")
    database: RegistryLocation = base_dir
    voter_key: Path | None = None
    if registry_table is None:
        if database_path is None:
            problems.append("registry: missing (a [registry] table, or database = the SQLite file)")
        database = database_path or base_dir
    elif database_path is not None:
        problems.append("database: give the registry once, in [registry] or as database, not both")
    else:
        database, voter_key = _registry(_Reader(registry_table, "registry.", base_dir, problems), problems)
    broker = BrokerAddress("", 0)
    tls: CenterTls | None = None
    last_worker = worker_name(instance, workers * processes)
    if _valid_name(instance) and not _valid_name(last_worker):
        problems.append(f"instance: too long for its workers' names ({last_worker}: at most 32 characters)")
    if broker_table is None:
        problems.append("broker: missing")
    else:
        section = _Reader(broker_table, "broker.", base_dir, problems)
        broker = BrokerAddress(section.text("host"), section.integer("port", 1, 65535))
        tls_table = section.table("tls")
        section.refuse_unknown()
        if tls_table is not None:
            files = _Reader(tls_table, "broker.tls.", base_dir, problems)
            tls = CenterTls(files.path("ca_file"), files.path("cert_dir"))
            files.refuse_unknown()
    if problems:
        return ConfigRefused(tuple(problems))
    return CenterConfig(
        district, instance, election_day, database, signing_key, sealing_key, broker, tls, workers, group,
        enrolment_ca, request_window, rate, quota, voter_key, worker_processes=processes, fleet=fleet,
        dashboard=dashboard, minutes=minutes, snapshot=snapshot,
    )


def _fleet(section: _Reader, problems: list[str]) -> FleetConfig:
    given = section.keys()
    opening_text = section.text("opening") if "opening" in given else "07:00"
    try:
        opening = time.fromisoformat(opening_text)
    except ValueError:
        problems.append("fleet.opening: a local time, HH:MM")
        opening = time(7, 0)
    approved = section.strings("approved_software") or ()
    problems.extend(f"fleet.approved_software: {value!r} is not a SHA-256 in hex" for value in approved
                    if re.fullmatch(r"[0-9a-f]{64}", value) is None)
    keep = section.integer("keep", 10, 10_000, 240)
    offline_after_s = section.integer("offline_after_s", 5, 3_600, 90)
    section.refuse_unknown(ignoring={"opening"})
    return FleetConfig(opening, approved, keep, offline_after_s)


def _snapshot(section: _Reader, problems: list[str]) -> SnapshotConfig:
    given = section.keys()
    scope_text = section.text("scope") if "scope" in given else SnapshotScope.DISTRICT.value
    if scope_text not in {scope.value for scope in SnapshotScope}:
        problems.append(f"snapshot.scope: {scope_text!r} is neither district nor nation")
        scope_text = SnapshotScope.DISTRICT.value
    config = SnapshotConfig(SnapshotScope(scope_text), section.integer("interval_s", 5, 86_400, 900),
                            section.integer("full_every", 1, 1_000, 8),
                            section.integer("tag_bits", MIN_TAG_BITS, MAX_TAG_BITS, 32),
                            section.integer("lag_s", 0, 600, 30))
    section.refuse_unknown(ignoring={"scope"})
    return config


def _minutes(section: _Reader, problems: list[str]) -> MinutesConfig:
    config = MinutesConfig(section.path("bundle_file"))
    given = section.keys()
    if "bundle_file" in given and config.bundle_file == section.base_dir:
        problems.append("minutes.bundle_file: empty")
    section.refuse_unknown()
    return config


def _dashboard(section: _Reader, problems: list[str]) -> DashboardConfig:
    host = section.text("host")
    port = section.integer("port", 1, 65535)
    names = section.strings("names") or (host,)
    if not names or any(not name or len(name) > 253 for name in names):
        problems.append("dashboard.names: host names, at most 253 characters each")
    config = DashboardConfig(host, port, names, section.path("cert_file"), section.path("key_file"),
                             section.path("staff_file"), section.optional_path("metrics_token_file"))
    section.refuse_unknown()
    return config


def _registry(section: _Reader, problems: list[str]) -> tuple[RegistryLocation, Path | None]:
    """`[registry]`: engine = "sqlite" with path, or engine = "postgresql" with dsn, pool_size and the national
    voter_key (required there: every district must key voters alike)."""
    engine = section.text("engine")
    given = section.keys()
    location: RegistryLocation = section.base_dir
    if engine not in ENGINES:
        problems.append(f"registry.engine: one of {', '.join(ENGINES)}")
    elif engine == "sqlite":
        location = section.path("path")
        problems.extend(f"registry.{key}: only with engine = \"postgresql\"" for key in ("dsn", "pool_size", "hosts")
                        if key in given)
    else:
        hosts = section.strings("hosts")
        location = PostgresSettings(section.text("dsn"), section.integer("pool_size", 1, MAX_POOL_SIZE,
                                                                         DEFAULT_POOL_SIZE), hosts or ())
        if "dsn" in given and not location.dsn.strip():
            problems.append("registry.dsn: empty")
        elif "dsn" in given:
            problems.extend(_postgres_problems(location, hosts))
        if "path" in given:
            problems.append("registry.path: only with engine = \"sqlite\"")
        if "voter_key" not in given:
            problems.append("registry.voter_key: missing (the national key, the same in every district)")
    voter_key = section.optional_path("voter_key")
    section.refuse_unknown(ignoring={"dsn", "pool_size", "path", "hosts"})
    return location, voter_key


def _postgres_problems(settings: PostgresSettings, hosts: tuple[str, ...] | None) -> list[str]:
    """`hosts` (the nodes of a replicated cluster, "host:port" each, at most MAX_HOSTS) and the dsn must make one
    libpq connection string that reaches only a primary (center.storage.postgres.registry_conninfo)."""
    from center.storage.postgres import registry_conninfo

    if hosts is not None and not 1 <= len(hosts) <= MAX_HOSTS:
        return [f"registry.hosts: from 1 to {MAX_HOSTS} nodes"]
    try:
        registry_conninfo(settings)
    except ValueError as exc:
        return [f"registry.{exc}"]
    return []
