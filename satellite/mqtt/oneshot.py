"""Publishing a few messages over a short-lived connection of its own (for the command line).

Used by `satellite mqtt unregister`: no last will, no availability, no queue, so it can run next
to a running satellite without disturbing it (client id `<client_id>-cli-<pid>`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from paho.mqtt.reasoncodes import ReasonCode

from satellite.mqtt.client import address, describe_refusal, make_client
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.topics import Outgoing


def publish_once(
    config: MqttConfig, site_id: str, messages: list[Outgoing], timeout: float = 10.0
) -> None:
    """Connect, publish `messages` with QoS 1, wait for the acknowledgements, disconnect."""
    if not config.enabled:
        raise MqttError("MQTT is disabled (mqtt.enabled: false): nothing to publish to")
    base = config.client_id or f"satellite-{site_id}"
    client = make_client(config, f"{base}-cli-{os.getpid()}")
    answer: list[ReasonCode] = []
    connected = threading.Event()

    def on_connect(_c: object, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        answer.append(reason)
        connected.set()

    client.on_connect = on_connect
    client.connect_timeout = timeout
    deadline = time.monotonic() + timeout
    try:
        client.connect(config.host, config.port, config.keepalive)
    except OSError as err:
        raise MqttError(
            f"cannot reach MQTT broker at {address(config)}: {err.strerror or err}"
        ) from err
    client.loop_start()
    try:
        if not connected.wait(timeout):
            raise MqttError(f"MQTT broker at {address(config)} did not answer within {timeout:g} s")
        if answer[0].is_failure:
            raise MqttError(describe_refusal(config, answer[0]))
        infos = [client.publish(m.topic, m.payload, qos=1, retain=m.retain) for m in messages]
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise MqttError(f"MQTT broker at {address(config)} did not acknowledge in time")
    finally:
        with contextlib.suppress(OSError):
            client.disconnect()
        client.loop_stop()
