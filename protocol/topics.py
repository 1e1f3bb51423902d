"""MQTT topic names of protocol v1: one subtree per terminal, and per district one broadcast topic, one permits
subtree, one "already voted" snapshot subtree and one subtree of the terminals' OFFLINE slips told to their peers."""

from __future__ import annotations

import re

PREFIX = "vk/v1"
_REQUEST_TOPIC = re.compile(r"vk/v1/([A-Za-z0-9-]+)/([A-Za-z0-9-]+)/req")
_PEER_SLIP_TOPIC = re.compile(r"vk/v1/[A-Za-z0-9-]+/offline/([A-Za-z0-9-]+)/[0-9a-f]{32}/[0-9]{1,4}")
_SNAPSHOT_TOPIC = re.compile(r"vk/v1/[A-Za-z0-9-]+/snapshot/([0-9]{1,10})/[0-9]{1,4}")


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


def snapshot_topic(district: str, version: int, part: int) -> str:
    """Where the district publishes one part of a version of its "already voted" snapshot, retained."""
    return f"{PREFIX}/{district}/snapshot/{version}/{part}"


def snapshot_subscription(district: str) -> str:
    """Every retained part of the district's snapshot versions (a terminal's subscription, and the publisher's)."""
    return f"{PREFIX}/{district}/snapshot/#"


def snapshot_version_of_topic(topic: str) -> int | None:
    """The version a snapshot topic names, or None if it is not one."""
    match = _SNAPSHOT_TOPIC.fullmatch(topic)
    return int(match.group(1)) if match else None


def peer_slip_topic(district: str, terminal: str, permit_id: str, sequence: int) -> str:
    """Where a terminal tells its permit's other terminals of one of its OFFLINE slips, retained (its own subtree:
    the ACL lets it write nowhere else there)."""
    return f"{PREFIX}/{district}/offline/{terminal}/{permit_id}/{sequence}"


def peer_slips_subscription(district: str, terminal: str | None = None) -> str:
    """Every OFFLINE slip told in the district (a terminal's subscription) or, given `terminal` (an ACL pattern's
    `%u` too), that terminal's own subtree."""
    return f"{PREFIX}/{district}/offline/{terminal}/#" if terminal else f"{PREFIX}/{district}/offline/#"


def terminal_of_peer_slip_topic(topic: str) -> str | None:
    """The terminal a peer slip's topic names (the one the broker let publish there), or None if it is not one."""
    match = _PEER_SLIP_TOPIC.fullmatch(topic)
    return match.group(1) if match else None


def center_request_subscription(district: str, group: str = "center") -> str:
    """Shared subscription: each request goes to exactly one of the center's workers."""
    return f"$share/{group}/{PREFIX}/{district}/+/req"


def terminal_of_request_topic(topic: str) -> tuple[str, str] | None:
    """(district, terminal) named by a request topic, or None if it is not one."""
    match = _REQUEST_TOPIC.fullmatch(topic)
    return (match.group(1), match.group(2)) if match else None
