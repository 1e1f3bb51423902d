"""The district's results read from the registry: its minutes, committed slips and closing reports, and the
enrolled branches, for the export and the dashboard."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar, cast

from center.config import CenterConfig
from center.election_bundle import DistrictBundle
from center.enrolled import EnrolledTerminal, EnrolledTerminals
from center.reconcile import ReconcileRecord
from center.registry import MinutesRow, Registry
from center.results import DistrictResults, ReceivedMinutes, closing_issued, district_results
from center.storage import PostgresSettings, RegistryDatabase, open_database
from center.voter_key import configured_voter_key
from protocol.codec import ProtocolError, decode_minutes
from protocol.messages import RequestKind

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class StoredResults:
    """The results, and the rows they were made of (each with the signed request that carried its minutes)."""

    results: DistrictResults
    rows: tuple[MinutesRow, ...]


def read_results(registry: Registry, district: str, bundle: DistrictBundle,
                 enrolled: Mapping[str, EnrolledTerminal]) -> StoredResults:
    """The day's minutes (training minutes never), the slips committed for each enrolled branch and each branch
    that sent minutes, the closing reports of those terminals. RuntimeError if a kept row does not read back."""
    terminals = [record for record in (enrolled.get(name) for name in list(enrolled)) if record is not None
                 and record.district == district]
    rows = tuple(registry.minutes_of(district))
    received = [_received(row) for row in rows]
    branches = {record.branch for record in terminals}
    committed = {branch: registry.committed_count(district, branch)
                 for branch in branches | {r.branch for r in received}}
    closing: dict[str, int] = {}
    for terminal in sorted({record.terminal for record in terminals} | {r.terminal for r in received}):
        reports = [closing_issued(detail) for kind, detail in registry.poll_events(district, terminal)
                   if kind is RequestKind.CLOSE]
        if reports and reports[-1] is not None:
            closing[terminal] = reports[-1]
    results = district_results(district, bundle.bundle, bundle.hash, branches, committed, closing, received)
    return StoredResults(results, rows)


def _received(row: MinutesRow) -> ReceivedMinutes:
    minutes = decode_minutes(row.minutes.encode("utf-8"))
    if isinstance(minutes, ProtocolError):
        raise RuntimeError(f"the kept minutes {row.minutes_hash} of {row.requester.branch}/{row.requester.terminal} "
                           f"do not read back ({minutes})")
    return ReceivedMinutes(row.requester.branch, row.requester.terminal, row.tx_id, row.minutes_hash, minutes,
                           row.received_at, row.before_closing)


def open_registry(config: CenterConfig, database: RegistryDatabase, voter_key: bytes | None = None) -> Registry:
    """A registry session for reading, keyed as the workers key it (`voter_key`: that key, if the caller holds it
    already; else read as the workers read it)."""
    return Registry(database.session(), config.election_day,
                    voter_key=voter_key if voter_key is not None else configured_voter_key(config))


class ResultsSource:
    """The results and the OFFLINE slips' reconciliation for the dashboard: one registry session, opened at the
    first look and read by one thread at a time, each at most once every `fresh_s` (the same meanwhile); None when
    they cannot be read (logged). Without an election bundle there are no results, only the reconciliation."""

    def __init__(self, config: CenterConfig, bundle: DistrictBundle | None, fresh_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, *, voter_key: bytes | None = None) -> None:
        self._config = config
        self._bundle = bundle
        self._enrolled: Mapping[str, EnrolledTerminal] = (
            EnrolledTerminals(config.enrolment_ca) if config.enrolment_ca is not None else {})
        self._fresh_s, self._clock, self._voter_key = fresh_s, clock, voter_key
        self._lock = threading.Lock()
        self._opened: tuple[RegistryDatabase, Registry] | None = None
        self._kept: dict[str, tuple[float, object]] = {}
        """Each read's time and what it gave (None: it failed), by what was read."""

    def reconciliation(self) -> list[ReconcileRecord] | None:
        """The district's records of OFFLINE slips, in the order they came."""
        district = self._config.district
        return self._fresh("OFFLINE slips", lambda registry: registry.offline_slips_of(district))

    def results(self) -> DistrictResults | None:
        bundle = self._bundle
        if bundle is None:
            return None
        return self._fresh("results", lambda registry: read_results(registry, self._config.district, bundle,
                                                                     self._enrolled).results)

    def _fresh(self, what: str, read: Callable[[Registry], T]) -> T | None:
        """`read` on the registry, at most once every `fresh_s` (what it gave meanwhile); None when it fails."""
        with self._lock:
            now = self._clock()
            kept = self._kept.get(what)
            if kept is not None and now - kept[0] < self._fresh_s:
                return cast("T | None", kept[1])
            try:
                found: T | None = read(self._registry())
            except Exception:  # the registry away, a row that does not read: the page says so, the log says why
                log.exception("the district's %s could not be read", what)
                found = None
            self._kept[what] = (now, found)
            return found

    def _registry(self) -> Registry:
        if self._opened is None:
            location = self._config.database
            if isinstance(location, PostgresSettings):
                location = replace(location, pool_size=1)
            database = open_database(location)
            try:
                self._opened = (database, open_registry(self._config, database, self._voter_key))
            except BaseException:
                database.close()
                raise
        return self._opened[1]

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                database, registry = self._opened
                registry.close()
                database.close()
                self._opened = None
