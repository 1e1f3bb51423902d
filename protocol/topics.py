"""MQTT topic names of protocol v1: one subtree per terminal, one broadcast topic and one permits subtree per
district."""

from __future__ import annotations

import re

PREFIX = "vk/v1"
_REQUEST_TOPIC = re.compile(r"vk/v1/([A-Za-z0-9-]+)/([A-Za-z0-9-]+)/req")


def request_topic(district: str, terminal: str) -> str:
    return f"{PREFIX}/{district}/{terminal}/req"


def answer_topic(district: str, terminal: str) -> str:
    return f"{PREFIX}/{district}/{terminal}/resp"


def telemetry_topic(district: str, terminal: str) -> str:
    return f"{PREFIX}/{district}/{terminal}/telemetry"


def status_topic(district: str, terminal: str) -> str:
    return f"{PREFIX}/{district}/{terminal}/status"


def broadcast_topic(district: str) -> str:
    return f"{PREFIX}/{district}/broadcast"


PERMIT_MESSAGES = ("permit", "activation", "end")
"""The three kinds of a permit's messages, each retained on a topic of its own under the permit's."""


def permit_topic(district: str, branch: str, permit_id: str, kind: str) -> str:
    """Where the district publishes a permit (`kind` "permit"), its broadcast activation or its end, retained."""
    if kind not in PERMIT_MESSAGES:
        raise ValueError(f"not a permit message: {kind}")
    return f"{PREFIX}/{district}/permits/{branch}/{permit_id}/{kind}"


def permits_subscription(district: str, branch: str | None = None) -> str:
    """Every permit message of one branch (a terminal's subscription) or, without `branch`, of the district."""
    return f"{PREFIX}/{district}/permits/{branch or '+'}/#"


def center_request_subscription(district: str, group: str = "center") -> str:
    """Shared subscription: each request goes to exactly one of the center's workers."""
    return f"$share/{group}/{PREFIX}/{district}/+/req"


def terminal_of_request_topic(topic: str) -> tuple[str, str] | None:
    """(district, terminal) named by a request topic, or None if it is not one."""
    match = _REQUEST_TOPIC.fullmatch(topic)
    return (match.group(1), match.group(2)) if match else None
