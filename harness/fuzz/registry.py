"""The fuzz target factories, one per area; each returns the targets of its parsers, ready to feed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.fuzz import FuzzTarget, card, files, minutes, network, offline, printer, telemetry

FACTORIES: list[Callable[[], Sequence[FuzzTarget]]] = []
FACTORIES.append(network.targets)
FACTORIES.append(files.targets)
FACTORIES.append(card.targets)
FACTORIES.append(printer.targets)
FACTORIES.append(minutes.targets)
FACTORIES.append(telemetry.targets)
FACTORIES.append(offline.targets)
