"""Topic names and JSON payloads: what the satellite publishes, and where.

Every topic is `<prefix>/<site_id>/<name>`. Events map to topics by their `type`: the types in
`EVENT_TOPICS` are published under their own name (an intent also under `intent/<name>`);
`state` goes to the retained `state` topic; every other type is not published.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, Final

from satellite.events import Event
from satellite.mqtt.config import MqttError

EVENT_TOPICS: Final = frozenset(
    {"wake", "transcript", "intent", "not_recognized", "reply", "timings", "timer", "arbitration"}
)
"""Event types published (QoS 1, not retained) on the topic of the same name."""
RESULT: Final = "result"
"""Topic of command results."""
STATE: Final = "state"
AVAILABILITY: Final = "availability"
ONLINE: Final = b"online"
OFFLINE: Final = b"offline"


@dataclass(frozen=True)
class Outgoing:
    """One MQTT message ready to publish."""

    topic: str
    payload: bytes
    retain: bool = False


def check_site_id(site_id: str) -> None:
    """A site id is one topic level: not empty, no `/`, `+` or `#`."""
    if not site_id or any(c in site_id for c in "/+#\0"):
        raise MqttError(f'site_id: expected one MQTT topic level (no / + #), got "{site_id}"')


def topic_level(name: str) -> str:
    """`name` made safe as one topic level (`/`, `+`, `#` become `_`)."""
    return "".join("_" if c in "/+#\0" else c for c in name) or "_"


class Topics:
    """The topic names of one satellite."""

    def __init__(self, prefix: str, site_id: str) -> None:
        check_site_id(site_id)
        self.site_id = site_id
        self.base = f"{prefix}/{site_id}"

    def __call__(self, suffix: str) -> str:
        return f"{self.base}/{suffix}"

    @property
    def availability(self) -> str:
        return self(AVAILABILITY)

    @property
    def state(self) -> str:
        return self(STATE)


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds, e.g. `2025-01-31T08:15:02.120+00:00`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _plain(value: Any) -> Any:
    """JSON fallback for the odd values events may carry (numpy numbers, paths, sets)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, PurePath | datetime):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in an MQTT payload")


def new_event_id() -> str:
    """A fresh event id (a uuid4): a copy delivered twice carries the same one."""
    return str(uuid.uuid4())


def encode(
    data: dict[str, Any], site_id: str, timestamp: str, event_id: str | None = None
) -> bytes:
    """`data` plus `site_id`, `timestamp` (and `id`), as compact UTF-8 JSON."""
    body = {**data, "site_id": site_id, "timestamp": timestamp}
    if event_id is not None:
        body["id"] = event_id
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()


def state_message(topics: Topics, data: dict[str, Any], timestamp: str) -> Outgoing:
    return Outgoing(topics.state, encode(data, topics.site_id, timestamp), retain=True)


def event_messages(
    event: Event, topics: Topics, timestamp: str, event_id: str | None = None
) -> tuple[Outgoing, ...]:
    """The messages that publish `event` (none for types that are not published)."""
    if event.type not in EVENT_TOPICS:
        return ()
    data = event.to_dict()
    payload = encode(data, topics.site_id, timestamp, event_id)
    messages = [Outgoing(topics(event.type), payload)]
    name = data.get("name")
    if event.type == "intent" and isinstance(name, str) and name:
        messages.append(Outgoing(topics(f"intent/{topic_level(name)}"), payload))
    return tuple(messages)
