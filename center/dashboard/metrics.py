"""The dashboard's figures for Prometheus: one collector that reads a fresh fleet snapshot at each scrape."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from center.fleet.alerts import AlertState
from center.fleet.figures import Opening
from center.fleet.model import Outcome, RefusalReason
from center.fleet.rules import Colour, Condition
from center.fleet.snapshot import FleetSnapshot
from protocol.telemetry import LinkState

PREFIX = "vk_fleet"


class FleetCollector(Collector):
    """Every figure of the dashboard, labelled by district; counters of the day are gauges (the terminals keep
    them), messages since start are counters."""

    def __init__(self, snapshot: Callable[[], FleetSnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        shot = self._snapshot()
        district = shot.district
        links = Counter(view.record.link for view in shot.terminals)
        terminals = GaugeMetricFamily(f"{PREFIX}_terminals", "Terminals by link state", labels=["district", "link"])
        for label, link in (("online", LinkState.ONLINE), ("offline", LinkState.OFFLINE), ("never_heard", None)):
            terminals.add_metric([district, label], links[link])
        yield terminals
        colours = Counter(view.colour for view in shot.terminals)
        by_colour = GaugeMetricFamily(f"{PREFIX}_terminals_by_colour", "Terminals by dashboard colour",
                                      labels=["district", "colour"])
        for colour in Colour:
            by_colour.add_metric([district, colour.value], colours[colour])
        yield by_colour
        branches = GaugeMetricFamily(f"{PREFIX}_branches", "Branches by opening", labels=["district", "opening"])
        for opening in Opening:
            branches.add_metric([district, opening.value], shot.totals.openings[opening])
        yield branches
        live = Counter((a.condition, a.state) for a in shot.alerts if a.state is not AlertState.CLOSED)
        alerts = GaugeMetricFamily(f"{PREFIX}_alerts", "Live alerts by condition and state",
                                   labels=["district", "condition", "state"])
        for condition in Condition:
            for state in (AlertState.OPEN, AlertState.ACKNOWLEDGED):
                alerts.add_metric([district, condition.value, state.value], live[(condition, state)])
        yield alerts
        day = GaugeMetricFamily(f"{PREFIX}_day_count", "The day's counters summed over the district's terminals",
                                labels=["district", "counter"])
        for name, value in shot.totals.counters.items():
            day.add_metric([district, name], value)
        yield day
        yield from _hours(shot)
        yield from _intake(shot)


def _hours(shot: FleetSnapshot) -> Iterator[Metric]:
    issued = GaugeMetricFamily(f"{PREFIX}_issued_in_hour", "Slips issued within each local hour",
                               labels=["district", "hour"])
    duplicates = GaugeMetricFamily(f"{PREFIX}_duplicates_refused_in_hour", "Duplicates refused within each local hour",
                                   labels=["district", "hour"])
    for figure in shot.hours[-24:]:
        hour = figure.hour.isoformat()
        issued.add_metric([shot.district, hour], figure.issued)
        duplicates.add_metric([shot.district, hour], figure.duplicates_refused)
    yield issued
    yield duplicates


def _intake(shot: FleetSnapshot) -> Iterator[Metric]:
    messages = CounterMetricFamily(f"{PREFIX}_messages", "Telemetry messages since start by outcome",
                                   labels=["district", "outcome"])
    for outcome in Outcome:
        messages.add_metric([shot.district, outcome.value], shot.intake.outcomes.get(outcome, 0))
    yield messages
    refused = CounterMetricFamily(f"{PREFIX}_refused", "Telemetry messages refused since start by reason",
                                  labels=["district", "reason"])
    for reason in RefusalReason:
        refused.add_metric([shot.district, reason.value], shot.intake.refused.get(reason, 0))
    yield refused
    unsaved = CounterMetricFamily(f"{PREFIX}_unsaved", "Applied telemetry messages the fleet store did not keep",
                                  labels=["district"])
    unsaved.add_metric([shot.district], shot.intake.unsaved)
    yield unsaved


def metrics_registry(snapshot: Callable[[], FleetSnapshot]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(snapshot))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
