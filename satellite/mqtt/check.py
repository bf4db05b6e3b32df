"""`check_broker`: is the broker reachable, and does it accept us? (for `satellite check`)"""

from __future__ import annotations

import contextlib
import os
import time

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from satellite.mqtt.client import address, describe_refusal, make_client
from satellite.mqtt.config import MqttConfig, MqttError


def check_broker(config: MqttConfig, timeout: float = 5.0) -> str | None:
    """None if the broker is reachable and accepts us within `timeout` s, else the problem.

    Uses its own short-lived connection (client id `<client_id>-check-<pid>`), so it can run
    next to a running satellite. A disabled `mqtt` section has nothing to check: None.
    """
    if not config.enabled:
        return None
    base = config.client_id or "satellite"
    try:
        client = make_client(config, f"{base}-check-{os.getpid()}")
    except MqttError as err:
        return str(err)
    client.connect_timeout = timeout
    answer: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answer.append(reason)
    try:
        client.connect(config.host, config.port, config.keepalive)
    except OSError as err:
        return f"cannot reach MQTT broker at {address(config)}: {err.strerror or err}"
    try:
        return _await_connack(client, config, answer, timeout)
    finally:
        with contextlib.suppress(OSError):
            client.disconnect()


def _await_connack(
    client: mqtt.Client, config: MqttConfig, answer: list[ReasonCode], timeout: float
) -> str | None:
    deadline = time.monotonic() + timeout
    while not answer and time.monotonic() < deadline:
        rc = client.loop(min(0.1, max(0.0, deadline - time.monotonic())))
        if rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_CONN_REFUSED) and not answer:
            return (
                f"MQTT broker at {address(config)} closed the connection: {mqtt.error_string(rc)}"
            )
    if not answer:
        return f"MQTT broker at {address(config)} did not answer within {timeout:g} s"
    if answer[0].is_failure:
        return describe_refusal(config, answer[0])
    return None
