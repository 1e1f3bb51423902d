"""A terminal's connection in a process of its own, to be SIGKILLed: `python -m tests.center.fleet.will_client PLAN`.

It leaves its signed OFFLINE status with the broker as its MQTT will, publishes its signed birth (retained),
says `ready` and waits; killed, it cannot say goodbye, so only the broker can tell the district it is gone."""

from __future__ import annotations

import json
import ssl
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main(plan_file: str) -> None:
    plan = json.loads(Path(plan_file).read_text())
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=plan["client_id"],
                         protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=plan["ca"], certfile=plan["cert"], keyfile=plan["key"],
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.will_set(plan["topic"], Path(plan["will"]).read_bytes(), qos=1, retain=True)
    client.connect(plan["host"], plan["port"], keepalive=15)
    client.loop_start()
    info = client.publish(plan["topic"], Path(plan["birth"]).read_bytes(), qos=1, retain=True)
    info.wait_for_publish(10)
    print("ready" if info.is_published() else "not published", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
