"""The district broker's configuration: its state kept on disk, saved seldom enough that a save (which stops the
broker's one thread while it writes everything) does not fall on the reserves' tail."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest
from paho.mqtt import publish
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from center.broker_config import BrokerSettings, render_mosquitto_conf
from harness.broker import Broker


def _lines(settings: BrokerSettings) -> list[str]:
    return render_mosquitto_conf(settings).splitlines()


def test_the_broker_keeps_its_state_and_saves_it_once_a_minute(tmp_path: Path) -> None:
    lines = _lines(BrokerSettings("127.0.0.1", 1883, tmp_path))
    assert "persistence true" in lines and f"persistence_location {tmp_path}/" in lines
    assert [line for line in lines if line.startswith("autosave")] == ["autosave_interval 60"], \
        "a save every second stalls the broker once a second (docs/dashboard.md, Figures)"


def test_the_save_interval_is_a_setting(tmp_path: Path) -> None:
    assert "autosave_interval 300" in _lines(BrokerSettings("127.0.0.1", 1883, tmp_path, autosave_s=300))


@pytest.mark.real_peer
def test_the_harness_broker_keeps_a_retained_message_across_a_restart_in_a_private_folder(tmp_path: Path) -> None:
    """The plaintext broker in pytest's 0700 folder: its state is saved on stopping and read on starting (started
    as root, mosquitto would drop to a user that cannot write there, and lose it silently)."""
    tmp_path.chmod(0o700)
    with Broker(tmp_path / "broker") as broker:
        publish.single("kept/topic", b"still here", qos=1, retain=True, hostname=broker.address.host,
                       port=broker.address.port)
        broker.stop()
        broker.start()
        received: queue.Queue[MQTTMessage] = queue.Queue()
        client = Client(CallbackAPIVersion.VERSION2)
        client.on_message = lambda _client, _data, message: received.put(message)
        client.connect(broker.address.host, broker.address.port)
        client.subscribe("kept/topic", qos=1)
        client.loop_start()
        try:
            message = received.get(timeout=10)
        finally:
            client.loop_stop()
            client.disconnect()
    log = (tmp_path / "broker" / "mosquitto.log").read_text()
    assert "Permission denied" not in log, log[-1000:]
    assert message.payload == b"still here" and message.retain, "the retained message did not outlive the restart"
