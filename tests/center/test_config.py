"""The center's config file: a complete file is read, every wrong or unknown option is named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from center.config import (
    DEFAULT_REQUEST_WINDOW_SECONDS,
    CenterConfig,
    CenterTls,
    ConfigRefused,
    load_center_config,
)
from center.storage import PostgresSettings
from protocol.mqtt import BrokerAddress, TlsFiles

GOOD = """
district = "d-01"
instance = "center-2"
election_day = 2026-06-12
database = "registry.sqlite"
signing_key = "keys/center-signing.pem"
sealing_key = "keys/center-sealing.pem"
workers = 4

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
    )


def test_optional_options_have_defaults_and_tls_is_read(tmp_path: Path) -> None:
    text = GOOD.replace('instance = "center-2"\n', "").replace("workers = 4\n", "")
    text += '[broker.tls]\nca_file = "ca.pem"\ncert_dir = "certs"\n'
    config = _load(tmp_path, text)
    assert isinstance(config, CenterConfig)
    assert (config.instance, config.workers) == ("center-1", 1)
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
        (("workers = 4", "workers = 4\nrequest_window_seconds = 5"), "request_window_seconds: must be from 10 to 3600"),
        (("workers = 4", "workers = 4\nenrolment_ca = 3"), "enrolment_ca: expected str"),
        (("workers = 4", "workers = 4\nrequests_per_terminal_second = 0"),
         "requests_per_terminal_second: must be from 1 to 1000000"),
        (("workers = 4", "workers = 4\nanswers_per_terminal = 10"), "answers_per_terminal: must be from 100 to 100000000"),
        (("port = 1883", "port = 70000"), "broker.port: must be from 1 to 65535"),
        (('district = "d-01"', 'district = "d/01"'), "district: letters, digits and '-', at most 32"),
        (("election_day = 2026-06-12", 'election_day = "2026-06-12"'), "election_day: expected date"),
        (('instance = "center-2"', f'instance = "{"c" * 30}"'),
         f"instance: too long for its workers' names ({'c' * 30}-w4: at most 32 characters)"),
    ],
)
def test_each_wrong_option_is_named(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    assert _problems(tmp_path, GOOD.replace(*change)) == (problem,)


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
