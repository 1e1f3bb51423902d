"""District broadcasts from the center: a signed closing-time extension for every terminal of the district."""

from __future__ import annotations

from datetime import datetime

from joserfc.jwk import OKPKey

from protocol.messages import Extension
from protocol.mqtt import MqttSession
from protocol.seal import sign_extension
from protocol.topics import broadcast_topic


def publish_extension(session: MqttSession, district: str, closes_at: datetime, signing_key: OKPKey,
                      now: datetime) -> bool:
    """Publish (QoS 1, retained so a terminal that reconnects later still learns it) the new closing time."""
    token = sign_extension(Extension(district, closes_at, now), signing_key)
    return session.publish(broadcast_topic(district), token, retain=True, wait=10.0)
