"""What actions reach out to: an MQTT publisher, the timers, the volume, the clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from satellite.skills.config import SkillsConfig

if TYPE_CHECKING:
    from satellite.skills.timers import TimerManager


class Publisher(Protocol):
    """The part of the MQTT client that actions use."""

    def publish(self, topic: str, payload: str | bytes, qos: int, retain: bool) -> None: ...


class ActionError(Exception):
    """An action that failed; the message is for logs and events, not spoken."""


@dataclass(frozen=True)
class Services:
    config: SkillsConfig = field(default_factory=SkillsConfig)
    publisher: Publisher | None = None
    timers: TimerManager | None = None
    set_volume: Callable[[int], None] | None = None
    """Called with 0..100 by `volume.set`."""
    silence_timers: Callable[[], int] | None = None
    """Stops the timers ringing; how many rang now or a moment ago (`app/ringer.py`)."""
    clock: Callable[[], datetime] = datetime.now
    site_id: str = "default"

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False) -> None:
        if self.publisher is None:
            raise ActionError(f"cannot publish to {topic}: no MQTT connection")
        try:
            self.publisher.publish(topic, payload, qos, retain)
        except Exception as err:  # the client's own errors, whatever they are
            raise ActionError(f"publishing to {topic} failed: {err}") from err

    def call_service(
        self, service: str, entity_id: Any = None, data: Any = None, **target: Any
    ) -> None:
        """Ask Home Assistant to call `service` (see docs/SKILLS.md for the automation)."""
        message: dict[str, Any] = {"service": service}
        if entity_id:
            message["entity_id"] = entity_id
        message.update({k: v for k, v in target.items() if v})
        if data:
            message["data"] = data
        topic = self.config.homeassistant_topic.replace("{site_id}", self.site_id)
        self.publish(topic, json.dumps(message), qos=1, retain=False)
