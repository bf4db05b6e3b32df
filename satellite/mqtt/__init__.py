"""MQTT: publish the satellite's events and state, take commands, speak Hermes, appear in
Home Assistant.

Topics and payloads are described in docs/MQTT.md.
"""

from satellite.mqtt.check import check_broker
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.publisher import InboundMessage, MqttPublisher
from satellite.mqtt.remote_commands import (
    Command,
    ContinueSession,
    EndSession,
    Listen,
    Mute,
    Say,
    Stop,
    Volume,
)
from satellite.mqtt.topics import EVENT_TOPICS

__all__ = [
    "EVENT_TOPICS",
    "Command",
    "ContinueSession",
    "EndSession",
    "InboundMessage",
    "Listen",
    "MqttConfig",
    "MqttError",
    "MqttPublisher",
    "Mute",
    "Say",
    "Stop",
    "Volume",
    "check_broker",
]
