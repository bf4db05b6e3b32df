"""Making a configured paho client, and putting its refusals into words."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.outbox import MAX_INFLIGHT

_paho_log = logging.getLogger("satellite.mqtt.paho")
_CREDENTIAL_REFUSALS = frozenset({"Bad user name or password", "Not authorized"})


def make_client(config: MqttConfig, client_id: str) -> mqtt.Client:
    """A paho client (MQTT 3.1.1, clean session) with credentials, TLS and backoff set."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=True,
        protocol=mqtt.MQTTv311,
    )
    client.on_log = _log_paho
    if config.username:
        client.username_pw_set(config.username, config.password or None)
    if config.tls:
        _set_tls(client, config)
    client.reconnect_delay_set(1, config.reconnect_max)
    client.max_inflight_messages_set(MAX_INFLIGHT + 5)
    return client


def _log_paho(client: mqtt.Client, userdata: Any, level: int, text: str) -> None:
    """paho's own log, at DEBUG: it reports every failed retry as an error; we report once."""
    _paho_log.debug("%s", text)


def _set_tls(client: mqtt.Client, config: MqttConfig) -> None:
    try:
        client.tls_set(
            ca_certs=config.ca_file or None,
            certfile=config.certfile or None,
            keyfile=config.keyfile or None,
        )
    except (OSError, ssl.SSLError, ValueError) as err:
        files = ", ".join(f for f in (config.ca_file, config.certfile, config.keyfile) if f)
        raise MqttError(f"mqtt TLS: cannot use {files or 'the system CAs'}: {err}") from err


def address(config: MqttConfig) -> str:
    return f"{config.host}:{config.port}"


def describe_refusal(config: MqttConfig, reason: ReasonCode) -> str:
    """Why the broker refused our CONNECT, in words a user can act on."""
    name = reason.getName()
    if name in _CREDENTIAL_REFUSALS:
        if config.username:
            return (
                f"MQTT broker refused the credentials for user {config.username} "
                f"({address(config)}: {name}); check mqtt.username and mqtt.password"
            )
        return (
            f"MQTT broker at {address(config)} refused an anonymous connection ({name}); "
            "set mqtt.username and mqtt.password"
        )
    return f"MQTT broker at {address(config)} refused the connection: {name}"
