"""What a load run found: counts by outcome, errors and NoAnswers by kind, round trips; merged across drivers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class DriverReport:
    """One driver process's findings (picklable, merged by `merge`). Times are seconds, round trips ms."""

    terminals: int = 0
    connected: int = 0
    visits: int = 0
    reserves_answered: int = 0
    """Reserve requests answered (first reserves, retries, duplicates and ineligibles alike)."""
    requests_answered: int = 0
    eligible: int = 0
    committed: int = 0
    voided: int = 0
    duplicates_refused: int = 0
    ineligible_refused: int = 0
    retries_same_code: int = 0
    duplicates_skipped: int = 0
    """DUPLICATE visits still waiting, when the run ended, for a slip issued by another terminal of their
    driver: not played."""
    abandoned: int = 0
    """Visits given up after every try of one request went unanswered."""
    late_answers: int = 0
    """Answers to a request already answered or given up (a try sent again and answered twice): dropped, as the
    terminal drops them."""
    errors: Counter[str] = field(default_factory=Counter)
    no_answers: Counter[str] = field(default_factory=Counter)
    """Tries that got no answer in time, by request kind (each is sent again, as a terminal does)."""
    reserve_round_trips_ms: list[float] = field(default_factory=list)
    reserve_sent_at: list[float] = field(default_factory=list)
    """time.time() each answered reserve was sent, in the order of `reserve_round_trips_ms`."""
    round_trips_ms: list[float] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)
    """Transaction id → inquiry code of every committed visit."""
    voided_tx: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    """time.time() of the first request sent and of the last answer taken (the measured window)."""
    cpu_s: float = 0.0
    """The driver's own CPU (process) during the window: signing commits and voids, verifying answers, TLS, MQTT."""
    births_sent: int = 0
    """With telemetry: births published (retained, QoS 1) and acknowledged, on connecting, before the window."""
    reports_before: int = 0
    """...and the first health report each terminal sends on connecting, before the window."""
    reports_sent: int = 0
    """Health reports sent in the window (QoS 0), the burst's included."""
    burst_sent: int = 0
    """Of those, the burst's: the printers that ran out of paper, each reporting at once."""
    telemetry_cpu_s: float = 0.0
    """The CPU of the driver's boards' process (harness.loadgen.boards) composing and signing the window's health
    reports (not part of `cpu_s`)."""
    report_lags_ms: list[float] = field(default_factory=list)
    """How long after it fell due each of those reports was published (the boards' queue and signing)."""
    collector_pauses_ms: list[float] = field(default_factory=list)
    """Each pass of the cyclic garbage collector in the driver's window: the loop times no answer while one runs."""


@dataclass(frozen=True)
class LoadReport:
    """Every driver's findings together."""

    drivers: tuple[DriverReport, ...]

    def _sum(self, name: str) -> int:
        return sum(int(getattr(d, name)) for d in self.drivers)

    @property
    def terminals(self) -> int:
        return self._sum("terminals")

    @property
    def connected(self) -> int:
        return self._sum("connected")

    @property
    def elapsed_s(self) -> float:
        began = [d.started_at for d in self.drivers if d.started_at]
        ended = [d.ended_at for d in self.drivers if d.ended_at]
        return max(ended) - min(began) if began and ended else 0.0

    @property
    def reserves_per_s(self) -> float:
        return self.count("reserves_answered") / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.count("requests_answered") / self.elapsed_s if self.elapsed_s else 0.0

    def count(self, name: str) -> int:
        """A counter summed over the drivers (a DriverReport field name)."""
        return self._sum(name)

    @property
    def errors(self) -> Counter[str]:
        return _counted(d.errors for d in self.drivers)

    @property
    def no_answers(self) -> Counter[str]:
        return _counted(d.no_answers for d in self.drivers)

    @property
    def reserve_round_trips_ms(self) -> list[float]:
        return sorted(t for d in self.drivers for t in d.reserve_round_trips_ms)

    @property
    def round_trips_ms(self) -> list[float]:
        return sorted(t for d in self.drivers for t in d.round_trips_ms)

    @property
    def issued(self) -> dict[str, str]:
        return {tx: code for d in self.drivers for tx, code in d.issued.items()}

    @property
    def voided_tx(self) -> set[str]:
        return {tx for d in self.drivers for tx in d.voided_tx}

    @property
    def loadgen_cpu_s(self) -> float:
        return sum(d.cpu_s for d in self.drivers)

    @property
    def boards_cpu_s(self) -> float:
        """The simulated boards' CPU signing the window's health reports (in processes of their own)."""
        return sum(d.telemetry_cpu_s for d in self.drivers)

    @property
    def report_lags_ms(self) -> list[float]:
        """Every driver's report lags, sorted."""
        return sorted(lag for d in self.drivers for lag in d.report_lags_ms)

    @property
    def collector_passes(self) -> int:
        """The cyclic collector's passes in the drivers' windows."""
        return sum(len(d.collector_pauses_ms) for d in self.drivers)

    @property
    def longest_collector_pause_ms(self) -> float:
        """The drivers' longest collector pass in the window (0 when none ran)."""
        return max((pause for d in self.drivers for pause in d.collector_pauses_ms), default=0.0)

    def lines(self) -> list[str]:
        """The report as printed."""
        trips = self.reserve_round_trips_ms
        p50, p95, p99 = (percentile(trips, q) for q in (50, 95, 99))
        lines = [
            f"terminals {self.terminals} ({self.connected} connected), visits {self.count('visits')}, "
            f"window {self.elapsed_s:.1f} s",
            f"reserves/s {self.reserves_per_s:.0f} (requests/s {self.requests_per_s:.0f}); reserve round trip "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms",
            f"eligible {self.count('eligible')}, committed {self.count('committed')}, voided {self.count('voided')}, "
            f"duplicates refused {self.count('duplicates_refused')}, ineligible refused "
            f"{self.count('ineligible_refused')}, retries with the same code {self.count('retries_same_code')}, "
            f"duplicates not played {self.count('duplicates_skipped')}, abandoned {self.count('abandoned')}, late answers "
            f"{self.count('late_answers')}",
            "errors: " + (", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "none"),
            "no answers: " + (", ".join(f"{k} {v}" for k, v in sorted(self.no_answers.items())) or "none"),
            f"the drivers' garbage collector: {self.collector_passes} passes in the window, the longest "
            f"{self.longest_collector_pause_ms:.1f} ms",
        ]
        if self.count("births_sent") or self.count("reports_sent"):
            sent = max(1, self.count("reports_sent"))
            lines.append(
                f"telemetry: births {self.count('births_sent')} and first reports {self.count('reports_before')} "
                f"before the window; health reports {self.count('reports_sent')} in it (burst "
                f"{self.count('burst_sent')}), signed by the boards' processes at "
                f"{self.boards_cpu_s * 1e6 / sent:.0f} µs of CPU each and published p50 "
                f"{percentile(self.report_lags_ms, 50):.1f} ms, p99 {percentile(self.report_lags_ms, 99):.1f} ms "
                f"after falling due")
        return lines


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of already sorted values; nan when there are none."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _counted(counters: Iterable[Counter[str]]) -> Counter[str]:
    summed: Counter[str] = Counter()
    for counter in counters:
        summed.update(counter)
    return summed
