"""The district broker's mosquitto configuration, rendered from the center's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    data_dir: Path


def render_mosquitto_conf(settings: BrokerSettings) -> str:
    """A single-listener mosquitto config; persistence keeps queued QoS 1 messages across restarts."""
    return "\n".join(
        [
            "per_listener_settings true",
            f"listener {settings.port} {settings.host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {settings.data_dir}/",
            "autosave_interval 1",
            "max_inflight_messages 100",
            "max_queued_messages 10000",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "connection_messages false",
            "",
        ]
    )
