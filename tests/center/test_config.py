"""The center's config file: a complete file is read, every wrong or unknown option is named."""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from center.config import (
    DEFAULT_REQUEST_WINDOW_SECONDS,
    CenterConfig,
    CenterTls,
    ConfigRefused,
    DashboardConfig,
    FleetConfig,
    MinutesConfig,
    SnapshotConfig,
    SnapshotScope,
    default_worker_processes,
    load_center_config,
)
from center.storage import PostgresSettings
from center.storage.postgres import registry_conninfo
from protocol.mqtt import BrokerAddress, TlsFiles

GOOD = """
district = "d-01"
instance = "center-2"
election_day = 2026-06-12
database = "registry.sqlite"
signing_key = "keys/center-signing.pem"
sealing_key = "keys/center-sealing.pem"
workers = 4
worker_processes = 2

[broker]
host = "127.0.0.1"
port = 1883
"""


def _load(tmp_path: Path, text: str) -> CenterConfig | ConfigRefused:
    path = tmp_path / "center.toml"
    path.write_text(text, encoding="utf-8")
    return load_center_config(path)


def _problems(tmp_path: Path, text: str) -> tuple[str, ...]:
    result = _load(tmp_path, text)
    assert isinstance(result, ConfigRefused), f"expected a refusal, got {result}"
    return result.problems


def test_a_complete_file_is_read_with_paths_beside_it(tmp_path: Path) -> None:
    assert _load(tmp_path, GOOD) == CenterConfig(
        district="d-01",
        instance="center-2",
        election_day=date(2026, 6, 12),
        database=tmp_path / "registry.sqlite",
        signing_key=tmp_path / "keys/center-signing.pem",
        sealing_key=tmp_path / "keys/center-sealing.pem",
        broker=BrokerAddress("127.0.0.1", 1883),
        tls=None,
        workers=4,
        group="center",
        worker_processes=2,
    )


def test_optional_options_have_defaults_and_tls_is_read(tmp_path: Path) -> None:
    text = GOOD.replace('instance = "center-2"\n', "").replace("workers = 4\n", "").replace("worker_processes = 2\n", "")
    text += '[broker.tls]\nca_file = "ca.pem"\ncert_dir = "certs"\n'
    config = _load(tmp_path, text)
    assert isinstance(config, CenterConfig)
    assert (config.instance, config.workers) == ("center-1", 1)
    assert config.worker_processes == default_worker_processes() == min(len(os.sched_getaffinity(0)), 32), \
        "by default one worker process per core"
    assert (config.enrolment_ca, config.request_window_seconds) == (None, DEFAULT_REQUEST_WINDOW_SECONDS)
    assert config.tls == CenterTls(tmp_path / "ca.pem", tmp_path / "certs")


def test_each_worker_has_its_own_certificate_named_after_the_instance(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD + '[broker.tls]\nca_file = "ca.pem"\ncert_dir = "certs"\n')
    assert isinstance(config, CenterConfig) and config.tls is not None
    assert config.tls.files("center-2-w3") == TlsFiles(
        tmp_path / "ca.pem", tmp_path / "certs/center-2-w3.pem", tmp_path / "certs/center-2-w3.key"
    )


def test_a_shared_certificate_file_is_no_longer_accepted(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD + '[broker.tls]\nca_file = "ca.pem"\ncert_file = "c.pem"\nkey_file = "c.key"\n')
    assert problems == ("broker.tls.cert_dir: missing", "broker.tls.cert_file: unknown option",
                        "broker.tls.key_file: unknown option")


def test_the_enrolment_folder_and_the_request_window_are_read(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD.replace("workers = 4", 'workers = 4\nenrolment_ca = "ca"\nrequest_window_seconds = 60'))
    assert isinstance(config, CenterConfig)
    assert (config.enrolment_ca, config.request_window_seconds) == (tmp_path / "ca", 60)


def test_the_per_terminal_limits_are_read(tmp_path: Path) -> None:
    limits = "workers = 4\nrequests_per_terminal_second = 5\nanswers_per_terminal = 1000"
    config = _load(tmp_path, GOOD.replace("workers = 4", limits))
    assert isinstance(config, CenterConfig)
    assert (config.requests_per_terminal_second, config.answers_per_terminal) == (5, 1000)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("workers = 4", "workers = 4\nthreads = 2"), "threads: unknown option"),
        (("port = 1883", "port = 1883\nkeepalive = 5"), "broker.keepalive: unknown option"),
        (('district = "d-01"\n', ""), "district: missing"),
        (("workers = 4", 'workers = "4"'), "workers: expected int"),
        (("workers = 4", "workers = 0"), "workers: must be from 1 to 64"),
        (("worker_processes = 2", "worker_processes = 0"), "worker_processes: must be from 1 to 32"),
        (("worker_processes = 2", "worker_processes = 33"), "worker_processes: must be from 1 to 32"),
        (("worker_processes = 2", "worker_processes = 2.5"), "worker_processes: expected int"),
        (("workers = 4", "workers = 4\nrequest_window_seconds = 5"), "request_window_seconds: must be from 10 to 3600"),
        (("workers = 4", "workers = 4\nenrolment_ca = 3"), "enrolment_ca: expected str"),
        (("workers = 4", "workers = 4\nrequests_per_terminal_second = 0"),
         "requests_per_terminal_second: must be from 1 to 1000000"),
        (("workers = 4", "workers = 4\nanswers_per_terminal = 10"), "answers_per_terminal: must be from 100 to 100000000"),
        (("port = 1883", "port = 70000"), "broker.port: must be from 1 to 65535"),
        (('district = "d-01"', 'district = "d/01"'), "district: letters, digits and '-', at most 32"),
        (("election_day = 2026-06-12", 'election_day = "2026-06-12"'), "election_day: expected date"),
        (('instance = "center-2"', f'instance = "{"c" * 30}"'),
         f"instance: too long for its workers' names ({'c' * 30}-w8: at most 32 characters)"),

    ],
)
def test_each_wrong_option_is_named(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    assert _problems(tmp_path, GOOD.replace(*change)) == (problem,)


def test_the_workers_of_every_worker_process_are_numbered_after_the_instance(tmp_path: Path) -> None:
    """Process p's workers are (p-1)·workers+1 ... p·workers: the last name must fit as the others do."""
    name = "c" * 29
    fits = _load(tmp_path, GOOD.replace('instance = "center-2"', f'instance = "{name}"'))
    assert isinstance(fits, CenterConfig) and fits.worker_processes * fits.workers == 8
    text = GOOD.replace('instance = "center-2"', f'instance = "{name}"').replace("worker_processes = 2",
                                                                                 "worker_processes = 3")
    assert _problems(tmp_path, text) == (f"instance: too long for its workers' names ({name}-w12: at most 32 "
                                         "characters)",)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("workers = 4", "workers = 0\ncolour = 1").replace("[broker]\n", "[brokers]\n")
    problems = _problems(tmp_path, text)
    assert "workers: must be from 1 to 64" in problems
    assert "colour: unknown option" in problems
    assert "broker: missing" in problems


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "district = \n")
    assert "center.toml" in problem


_NO_DATABASE = GOOD.replace('database = "registry.sqlite"\n', "")
_NATIONAL = '[registry]\nengine = "postgresql"\ndsn = "host=/run/postgresql dbname=registry"\npool_size = 8\n' \
            'voter_key = "keys/national-voter.key"\n'


def test_the_registry_section_names_the_national_postgresql_and_its_voter_key(tmp_path: Path) -> None:
    config = _load(tmp_path, _NO_DATABASE + _NATIONAL)
    assert isinstance(config, CenterConfig), config
    assert config.database == PostgresSettings("host=/run/postgresql dbname=registry", 8)
    assert config.voter_key == tmp_path / "keys/national-voter.key"


def test_the_registry_section_may_name_an_sqlite_file(tmp_path: Path) -> None:
    config = _load(tmp_path, _NO_DATABASE + '[registry]\nengine = "sqlite"\npath = "r.sqlite"\n')
    assert isinstance(config, CenterConfig), config
    assert (config.database, config.voter_key) == (tmp_path / "r.sqlite", None)


@pytest.mark.parametrize(("text", "problem"), [
    (_NO_DATABASE, "registry: missing"),
    (GOOD + _NATIONAL, "database: give the registry once"),
    (_NO_DATABASE + '[registry]\nengine = "mysql"\n', "registry.engine: one of sqlite, postgresql"),
    (_NO_DATABASE + _NATIONAL.replace('voter_key = "keys/national-voter.key"\n', ""), "registry.voter_key: missing"),
    (_NO_DATABASE + _NATIONAL.replace("pool_size = 8", "pool_size = 0"), "registry.pool_size: must be from 1"),
    (_NO_DATABASE + _NATIONAL.replace("pool_size = 8", 'pool_size = "8"'), "registry.pool_size: expected int"),
    (_NO_DATABASE + _NATIONAL.replace('dsn = "host=/run/postgresql dbname=registry"', 'dsn = " "'),
     "registry.dsn: empty"),
    (_NO_DATABASE + _NATIONAL + 'path = "r.sqlite"\n', 'registry.path: only with engine = "sqlite"'),
    (_NO_DATABASE + '[registry]\nengine = "sqlite"\npath = "r.sqlite"\ndsn = "x"\n',
     'registry.dsn: only with engine = "postgresql"'),
    (_NO_DATABASE + _NATIONAL + "replicas = 2\n", "registry.replicas: unknown option"),
])
def test_a_wrong_registry_section_is_refused_by_name(tmp_path: Path, text: str, problem: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(p.startswith(problem) for p in problems), problems


_CLUSTER = _NATIONAL.replace("host=/run/postgresql dbname=registry", "dbname=registry user=center") \
    + 'hosts = ["pg1.nation:5432", "10.0.0.2:5433", "[fd00::3]:5432", "pg4.nation"]\n'


def test_the_registry_may_name_every_node_of_a_replicated_cluster_and_connects_only_to_the_primary(
    tmp_path: Path,
) -> None:
    config = _load(tmp_path, _NO_DATABASE + _CLUSTER)
    assert isinstance(config, CenterConfig), config
    assert config.database == PostgresSettings("dbname=registry user=center", 8,
                                               ("pg1.nation:5432", "10.0.0.2:5433", "[fd00::3]:5432", "pg4.nation"))
    options = conninfo_to_dict(registry_conninfo(config.database))
    assert (options["host"], options["port"]) == ("pg1.nation,10.0.0.2,fd00::3,pg4.nation", "5432,5433,5432,5432")
    assert options["target_session_attrs"] == "read-write"
    assert (options["dbname"], options["user"]) == ("registry", "center")


def test_a_dsn_naming_several_hosts_itself_also_connects_only_to_the_primary() -> None:
    options = conninfo_to_dict(registry_conninfo(PostgresSettings("host=pg1,pg2 port=5432,5432 dbname=registry")))
    assert options["target_session_attrs"] == "read-write"
    one = conninfo_to_dict(registry_conninfo(PostgresSettings("host=/run/postgresql dbname=registry")))
    assert "target_session_attrs" not in one


@pytest.mark.parametrize(("change", "problem"), [
    (("dbname=registry user=center", "host=pg1 dbname=registry"),
     "registry.hosts: give the nodes either in hosts or in the dsn, not both (the dsn has host)"),
    (('hosts = ["pg1.nation:5432", "10.0.0.2:5433", "[fd00::3]:5432", "pg4.nation"]', "hosts = []"),
     "registry.hosts: from 1 to 16 nodes"),
    (('"10.0.0.2:5433"', '"10.0.0.2:0"'), "registry.hosts: '10.0.0.2:0' is not host:port"),
    (('"pg4.nation"', '"fd00::4:5432"'), "registry.hosts: 'fd00::4:5432': an IPv6 address goes in brackets"),
    (('"pg4.nation"', "4"), "registry.hosts: expected an array of strings"),
    (("dbname=registry user=center", "dbname=registry target_session_attrs=any"),
     "registry.dsn: target_session_attrs=any with several hosts could reach a standby"),
])
def test_a_wrong_list_of_cluster_nodes_is_refused_by_name(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    problems = _problems(tmp_path, _NO_DATABASE + _CLUSTER.replace(*change))
    assert [p for p in problems if p.startswith("registry.")] == [p for p in problems if p.startswith(problem)], \
        problems
    assert any(p.startswith(problem) for p in problems), problems


def test_the_cluster_nodes_are_only_for_postgresql(tmp_path: Path) -> None:
    text = _NO_DATABASE + '[registry]\nengine = "sqlite"\npath = "r.sqlite"\nhosts = ["pg1:5432"]\n'
    assert _problems(tmp_path, text) == ('registry.hosts: only with engine = "postgresql"',)


VIEW = """
[fleet]
opening = "07:30"
approved_software = ["%s"]
keep = 120
offline_after_s = 30

[dashboard]
host = "0.0.0.0"
port = 8443
names = ["dashboard.d-01.example", "10.1.0.5"]
cert_file = "tls/dashboard.pem"
key_file = "tls/dashboard.key"
staff_file = "staff.json"
metrics_token_file = "metrics.token"
""" % ("a" * 64)


def test_the_fleet_and_the_dashboard_are_read_with_their_files_from_the_config_folder(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD + VIEW)
    assert isinstance(config, CenterConfig), config
    assert config.fleet == FleetConfig(time(7, 30), ("a" * 64,), 120, 30)
    assert config.dashboard == DashboardConfig("0.0.0.0", 8443, ("dashboard.d-01.example", "10.1.0.5"),
                                               tmp_path / "tls/dashboard.pem", tmp_path / "tls/dashboard.key",
                                               tmp_path / "staff.json", tmp_path / "metrics.token")
    plain = _load(tmp_path, GOOD)
    assert isinstance(plain, CenterConfig) and plain.fleet is None and plain.dashboard is None


@pytest.mark.parametrize(("change", "problem"), [
    (lambda text: text.replace('"07:30"', '"half past seven"'), "fleet.opening: a local time"),
    (lambda text: text.replace("a" * 64, "not-a-hash"), "fleet.approved_software: 'not-a-hash' is not a SHA-256"),
    (lambda text: text.replace("keep = 120", "keep = 3"), "fleet.keep: must be from 10 to 10000"),
    (lambda text: text.replace("offline_after_s = 30", "offline_after_s = 1"),
     "fleet.offline_after_s: must be from 5 to 3600"),
    (lambda text: text.replace("port = 8443", "port = 0"), "dashboard.port: must be from 1 to 65535"),
    (lambda text: text.replace('staff_file = "staff.json"', ""), "dashboard.staff_file: missing"),
    (lambda text: text.replace("[fleet]", "[fleet]\nextra = 1"), "fleet.extra: unknown option"),
    (lambda text: text[text.index("[dashboard]"):], "dashboard: needs [fleet]"),
])
def test_a_wrong_fleet_or_dashboard_table_is_refused_by_name(tmp_path: Path, change: Any, problem: str) -> None:
    refused = _load(tmp_path, GOOD + change(VIEW))
    assert isinstance(refused, ConfigRefused)
    assert any(line.startswith(problem) for line in refused.problems), refused.problems


MINUTES = """
enrolment_ca = "ca"

[minutes]
bundle_file = "election.jws"
"""


def test_the_minutes_table_names_the_districts_signed_election_bundle(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD.replace("[broker]", MINUTES + "\n[broker]"))
    assert isinstance(config, CenterConfig), config
    assert config.minutes == MinutesConfig(tmp_path / "election.jws")
    plain = _load(tmp_path, GOOD)
    assert isinstance(plain, CenterConfig) and plain.minutes is None


@pytest.mark.parametrize(("change", "problem"), [
    (lambda text: text.replace('bundle_file = "election.jws"', ""), "minutes.bundle_file: missing"),
    (lambda text: text.replace('"election.jws"', '""'), "minutes.bundle_file: empty"),
    (lambda text: text.replace('"election.jws"', "7"), "minutes.bundle_file: expected str"),
    (lambda text: text.replace("[minutes]", "[minutes]\nbundle_key = \"k.pem\""), "minutes.bundle_key: unknown option"),
    (lambda text: text.replace('enrolment_ca = "ca"', ""), "minutes: needs enrolment_ca"),
])
def test_a_wrong_minutes_table_is_refused_by_name(tmp_path: Path, change: Any, problem: str) -> None:
    refused = _load(tmp_path, GOOD.replace("[broker]", change(MINUTES) + "\n[broker]"))
    assert isinstance(refused, ConfigRefused)
    assert any(line.startswith(problem) for line in refused.problems), refused.problems


SNAPSHOT = """
[snapshot]
scope = "nation"
interval_s = 600
full_every = 4
tag_bits = 30
lag_s = 10
"""


def test_the_snapshot_table_is_read_and_every_option_has_a_default(tmp_path: Path) -> None:
    config = _load(tmp_path, GOOD.replace("[broker]", SNAPSHOT + "\n[broker]"))
    assert isinstance(config, CenterConfig), config
    assert config.snapshot == SnapshotConfig(SnapshotScope.NATION, 600, 4, 30, 10)
    defaults = _load(tmp_path, GOOD.replace("[broker]", "[snapshot]\n\n[broker]"))
    assert isinstance(defaults, CenterConfig) and defaults.snapshot == SnapshotConfig()
    plain = _load(tmp_path, GOOD)
    assert isinstance(plain, CenterConfig) and plain.snapshot is None


@pytest.mark.parametrize(("change", "problem"), [
    (lambda text: text.replace('"nation"', '"province"'), "snapshot.scope: 'province' is neither"),
    (lambda text: text.replace("interval_s = 600", "interval_s = 1"), "snapshot.interval_s: must be from 5"),
    (lambda text: text.replace("full_every = 4", "full_every = 0"), "snapshot.full_every: must be from 1"),
    (lambda text: text.replace("tag_bits = 30", "tag_bits = 40"), "snapshot.tag_bits: must be from 20 to 36"),
    (lambda text: text.replace("lag_s = 10", "lag_s = -1"), "snapshot.lag_s: must be from 0"),
    (lambda text: text.replace("[snapshot]", "[snapshot]\nkey = 1"), "snapshot.key: unknown option"),
])
def test_a_wrong_snapshot_table_is_refused_by_name(tmp_path: Path, change: Any, problem: str) -> None:
    refused = _load(tmp_path, GOOD.replace("[broker]", change(SNAPSHOT) + "\n[broker]"))
    assert isinstance(refused, ConfigRefused)
    assert any(line.startswith(problem) for line in refused.problems), refused.problems
