"""The district's fleet: telemetry intake, the latest state and history of each terminal, alert rules."""

from center.fleet.service import FleetService
from center.fleet.settings import FleetSettings

__all__ = ["FleetService", "FleetSettings"]
