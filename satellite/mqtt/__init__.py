"""MQTT: publish the satellite's events and state, take commands, speak Hermes, appear in
Home Assistant.

Topics and payloads are described in docs/MQTT.md.
"""

from satellite.mqtt.check import check_broker
from satellite.mqtt.config import MqttConfig, MqttError
from satellite.mqtt.publisher import MqttPublisher
from satellite.mqtt.remote_commands import (
    Command,
    ContinueSession,
    EndSession,
    Heard,
    Listen,
    Mute,
    Say,
    Stop,
    Volume,
)
from satellite.mqtt.routing import CommandHandler, Reply
from satellite.mqtt.topics import EVENT_TOPICS

__all__ = [
    "EVENT_TOPICS",
    "Command",
    "CommandHandler",
    "ContinueSession",
    "EndSession",
    "Heard",
    "Listen",
    "MqttConfig",
    "MqttError",
    "MqttPublisher",
    "Mute",
    "Reply",
    "Say",
    "Stop",
    "Volume",
    "check_broker",
]
