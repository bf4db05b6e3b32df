"""Home Assistant MQTT discovery: the satellite as one device with seven entities.

Each entity's config is a retained JSON message on
`<discovery_prefix>/<component>/satellite_<site>/<key>/config`; an empty retained message on the
same topic removes the entity. The entities read and write our own topics (docs/MQTT.md), and
all share the `availability` topic, which the last will sets to `offline`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from satellite import __version__
from satellite.mqtt.config import MqttConfig
from satellite.mqtt.remote_commands import PRESS
from satellite.mqtt.topics import Outgoing, Topics

ON: Final = "ON"
OFF: Final = "OFF"
MUTE_STATE: Final = "mute/state"
VOLUME_STATE: Final = "volume/state"


@dataclass(frozen=True)
class Entity:
    component: str
    key: str
    name: str
    topics: dict[str, str] = field(default_factory=dict)
    """Config key → our topic suffix (`state_topic` → `state`)."""
    options: dict[str, Any] = field(default_factory=dict)


ENTITIES: Final = (
    Entity(
        "sensor",
        "state",
        "State",
        {"state_topic": "state"},
        {"value_template": "{{ value_json.state }}", "icon": "mdi:account-voice"},
    ),
    Entity(
        "sensor",
        "transcript",
        "Last transcript",
        {"state_topic": "transcript"},
        {"value_template": "{{ value_json.text[:255] }}", "icon": "mdi:text-recognition"},
    ),
    Entity(
        "sensor",
        "intent",
        "Last intent",
        {"state_topic": "intent"},
        {"value_template": "{{ value_json.name }}", "icon": "mdi:lightbulb-question"},
    ),
    Entity(
        "switch",
        "mute",
        "Mute",
        {"command_topic": "mute", "state_topic": MUTE_STATE},
        {"payload_on": ON, "payload_off": OFF, "icon": "mdi:microphone-off"},
    ),
    Entity(
        "button",
        "listen",
        "Listen",
        {"command_topic": "listen"},
        {"payload_press": PRESS, "icon": "mdi:microphone"},
    ),
    Entity(
        "button",
        "stop",
        "Stop",
        {"command_topic": "stop"},
        {"payload_press": PRESS, "icon": "mdi:stop"},
    ),
    Entity(
        "number",
        "volume",
        "Volume",
        {"command_topic": "volume", "state_topic": VOLUME_STATE},
        {
            "min": 0,
            "max": 100,
            "step": 1,
            "unit_of_measurement": "%",
            "mode": "slider",
            "icon": "mdi:volume-high",
        },
    ),
)


def node_id(site_id: str) -> str:
    """`satellite_<site_id>` with anything but letters, digits, `_` and `-` made `_`."""
    return "satellite_" + re.sub(r"[^A-Za-z0-9_-]", "_", site_id)


def config_topic(config: MqttConfig, site_id: str, entity: Entity) -> str:
    return f"{config.discovery_prefix}/{entity.component}/{node_id(site_id)}/{entity.key}/config"


def birth_topic(config: MqttConfig) -> str:
    """Where Home Assistant says `online` when it (re)starts."""
    return f"{config.discovery_prefix}/status"


def _device(site_id: str) -> dict[str, Any]:
    return {
        "identifiers": [node_id(site_id)],
        "name": f"Satellite {site_id}",
        "manufacturer": "satellite",
        "model": "Voice satellite",
        "sw_version": __version__,
    }


def entity_config(topics: Topics, entity: Entity) -> dict[str, Any]:
    unique = f"{node_id(topics.site_id)}_{entity.key}"
    return {
        "name": entity.name,
        "unique_id": unique,
        "object_id": unique,
        **{key: topics(suffix) for key, suffix in entity.topics.items()},
        **entity.options,
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "device": _device(topics.site_id),
        "origin": {"name": "satellite", "sw_version": __version__},
    }


def announce_messages(config: MqttConfig, topics: Topics) -> list[Outgoing]:
    """The retained config message of every entity."""
    return [
        Outgoing(
            config_topic(config, topics.site_id, entity),
            json.dumps(entity_config(topics, entity), separators=(",", ":")).encode(),
            retain=True,
        )
        for entity in ENTITIES
    ]


def removal_messages(config: MqttConfig, site_id: str) -> list[Outgoing]:
    """Empty retained messages that remove every entity (and the device with the last one)."""
    return [Outgoing(config_topic(config, site_id, e), b"", retain=True) for e in ENTITIES]
