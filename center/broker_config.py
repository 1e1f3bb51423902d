"""The district broker's mosquitto configuration and topic ACL, rendered from the center's settings."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from protocol.messages import NAME_PATTERN
from protocol.topics import (
    PREFIX,
    answer_topic,
    broadcast_topic,
    peer_slips_subscription,
    permits_subscription,
    request_topic,
    snapshot_subscription,
    status_topic,
    telemetry_topic,
)


@dataclass(frozen=True)
class CenterListener:
    """The center's own TLS listener. It admits only certificates of the center CA and, like the terminals'
    listener, forces the client id to the certificate's CN: each center worker has a certificate of its own
    (`<instance>-w<index>`), so no other holder of a center certificate can take over a worker's session.
    Bind it where the branch network cannot reach (the center's host or management network)."""

    host: str
    port: int
    ca_file: Path
    acl_file: Path
    crl_file: Path | None = None


@dataclass(frozen=True)
class BrokerTls:
    """Mutual TLS for the terminals' listener (the district CA, the broker's own certificate, the ACL file
    and, if revocation is on, the CA's CRL: OpenSSL then needs a current CRL, so an expired CRL refuses
    everyone) and the center's listener."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    acl_file: Path
    center: CenterListener
    crl_file: Path | None = None


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    data_dir: Path
    tls: BrokerTls | None = None
    user: str | None = None
    autosave_s: int = 60
    """How often mosquitto writes its in-memory state (retained messages, sessions, queued QoS 1 messages) to
    disk. Each save writes the whole state and stops the broker's one thread while it does: 2,000 retained
    births are 1.5 MB and about 20 ms on an idle machine, more under load and with a snapshot's retained parts.
    Saved every second, that stall fell on the reserves' tail (docs/dashboard.md, Figures). A crash loses at most
    this much, and the protocol rebuilds it: terminals announce their birth again on reconnecting and retry their
    requests under the same transaction (answered the same); mosquitto also saves when it is stopped."""


MAX_PACKET_BYTES = 262_144


def render_mosquitto_conf(settings: BrokerSettings) -> str:
    """Persistence keeps queued QoS 1 messages across restarts. Without `tls`: one plaintext, anonymous
    listener (kept for the tests and demo that do not use certificates yet). With `tls`: the terminals'
    listener and the center's. `user` is the account mosquitto runs as when started by root."""
    lines = [] if settings.user is None else [f"user {settings.user}"]
    lines += ["per_listener_settings true", f"listener {settings.port} {settings.host}"]
    if settings.tls is None:
        lines.append("allow_anonymous true")
    else:
        tls = settings.tls
        lines += _tls_lines(tls.ca_file, tls.cert_file, tls.key_file, tls.acl_file, tls.crl_file)
        # A terminal's client id is its certificate's CN: no terminal can take over another's session.
        lines.append("use_username_as_clientid true")
        center = tls.center
        lines.append(f"listener {center.port} {center.host}")
        lines += _tls_lines(center.ca_file, tls.cert_file, tls.key_file, center.acl_file, center.crl_file)
        # The same for the center: a worker's client id is its own certificate's CN.
        lines.append("use_username_as_clientid true")
    lines += [
        "persistence true",
        f"persistence_location {settings.data_dir}/",
        f"autosave_interval {settings.autosave_s}",
        "max_inflight_messages 100",
        "max_queued_messages 10000",
        # The largest message of the protocol is a branch's minutes (codec.MAX_SIGNED_REQUEST_BYTES); nothing
        # bigger reaches a subscriber.
        f"max_packet_size {MAX_PACKET_BYTES}",
        "set_tcp_nodelay true",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "connection_messages false",
        "",
    ]
    return "\n".join(lines)


def _tls_lines(client_ca: Path, cert_file: Path, key_file: Path, acl_file: Path, crl_file: Path | None
               ) -> list[str]:
    lines = [
        "allow_anonymous false",
        f"cafile {client_ca}",
        f"certfile {cert_file}",
        f"keyfile {key_file}",
        "require_certificate true",
        "use_identity_as_username true",
        f"acl_file {acl_file}",
    ]
    if crl_file is not None:
        lines.append(f"crlfile {crl_file}")
    return lines


def render_terminal_acl(district: str) -> str:
    """Each terminal (username = certificate CN = terminal id) reaches only its own subtree and reads the
    district broadcast. Terminal ids are checked against NAME_PATTERN when certificates are issued, so a CN
    can never carry `+`, `#` or `/`.

    Mosquitto 2.0 checks read access when it delivers a message, not when it grants a subscription, so a
    subscription to another terminal's topics is granted and receives nothing. The same holds for
    `$share/GROUP/...`: a terminal may join the center's share group, and the requests the broker hands it
    are dropped by the read check, not given to a worker. Hence the center's share group is a random name
    only the center knows (`secret_group_name`), never the default."""
    own = "%u"
    lines = [
        f"# {PREFIX} terminals' ACL of district {district}: rendered by center.broker_config, do not edit",
        f"pattern write {request_topic(district, own)}",
        f"pattern write {telemetry_topic(district, own)}",
        f"pattern write {status_topic(district, own)}",
        f"pattern read {answer_topic(district, own)}",
        f"pattern read {broadcast_topic(district)}",
        f"pattern read {permits_subscription(district)}",
        f"pattern read {snapshot_subscription(district)}",
        f"pattern write {peer_slips_subscription(district, own)}",
        f"pattern read {peer_slips_subscription(district)}",
    ]
    return "\n".join([*lines, ""])


def render_center_acl(district: str, names: Iterable[str]) -> str:
    """Each center identity in `names` (username = certificate CN: every worker's `<instance>-w<index>`, and
    any tool identity such as the broadcaster's) reads every request (through its shared subscription: the
    read check applies to the message topic), answers every terminal, reads telemetry and status, writes the
    broadcast and the permits, and reads and writes the snapshot (its publisher clears the versions it replaced).
    A center certificate whose name is not listed gets nothing."""
    any_terminal = "+"
    lines = [f"# {PREFIX} center's ACL of district {district}: rendered by center.broker_config, do not edit"]
    for name in sorted(set(names)):
        if not re.fullmatch(NAME_PATTERN, name, flags=re.ASCII):
            raise ValueError(f"not a center identity: {name!r}")
        lines += [
            "",
            f"user {name}",
            f"topic read {request_topic(district, any_terminal)}",
            f"topic write {answer_topic(district, any_terminal)}",
            f"topic read {telemetry_topic(district, any_terminal)}",
            f"topic read {status_topic(district, any_terminal)}",
            f"topic write {broadcast_topic(district)}",
            f"topic write {permits_subscription(district)}",
            f"topic readwrite {snapshot_subscription(district)}",
        ]
    return "\n".join([*lines, ""])


def secret_group_name() -> str:
    """A share-group name nobody can guess (32 hex digits: within the protocol's name pattern)."""
    return secrets.token_hex(16)
