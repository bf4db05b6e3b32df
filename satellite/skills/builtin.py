"""Named built-in handlers a skill can use as `action: {builtin: NAME}`.

Each has a pure `describe` (values for the response template, computed when a sentence is
recognised, so `satellite skills test` shows the real reply) and an `act` that does the work
and may return a different reply (e.g. "There is no timer running.").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from satellite.skills.config import DeviceConfig, SkillsConfig
from satellite.skills.model import SlotValue
from satellite.skills.services import ActionError, Services
from satellite.skills.spoken import as_int
from satellite.skills.timer_actions import (
    cancel_timer,
    describe_timer,
    silence_timers,
    start_timer,
    timer_status,
)

_LOGGER = logging.getLogger(__name__)

Slots = Mapping[str, SlotValue]
Values = dict[str, SlotValue]


@dataclass(frozen=True)
class Builtin:
    name: str
    describe: Callable[[Slots, Services], Values]
    act: Callable[[Slots, Services], str | None]
    provides: frozenset[str] = frozenset()
    """Names `describe` adds for the response template."""


def _describe_time(_slots: Slots, services: Services) -> Values:
    now = services.clock()
    hour = now.hour % 12 or 12
    minutes = f":{now.minute:02d}" if now.minute else ""
    return {"time": f"{hour}{minutes} {'AM' if now.hour < 12 else 'PM'}"}


def _describe_date(_slots: Slots, services: Services) -> Values:
    now: datetime = services.clock()
    return {"date": f"{now:%A}, {now:%B} {now.day}", "year": now.year}


def _set_volume(slots: Slots, services: Services) -> str | None:
    if slots.get("volume_level") is None:
        raise ActionError("no volume level")
    level = max(0, min(100, as_int(slots["volume_level"])))
    if services.set_volume is None:
        raise ActionError("volume control is not available")
    services.set_volume(level)
    return None


def _nothing(_slots: Slots, _services: Services) -> str | None:
    return None


def _no_values(_slots: Slots, _services: Services) -> Values:
    return {}


def slug(name: str) -> str:
    """`living room` → `living_room` (how Home Assistant names area ids)."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _devices(slots: Slots, config: SkillsConfig) -> list[tuple[str, DeviceConfig]]:
    """The devices named, or those of the area; a name said with an area ("the bedroom desk
    fan") must be in that area, so a device elsewhere is never switched."""
    name, area = slots.get("name"), slots.get("area")
    where = None if area is None else str(area).strip().lower()
    if name is not None:
        wanted = str(name).lower()
        named = [(n, d) for n, d in config.devices.items() if n.lower() == wanted]
        if where is not None and named and not any(d.area.lower() == where for _n, d in named):
            raise ActionError(f"no device named {name!r} is in the {area}")
        return [(n, d) for n, d in named if where is None or d.area.lower() == where]
    if where is not None:
        return [(n, d) for n, d in config.devices.items() if d.area.lower() == where]
    return []


def _describe_switch(slots: Slots, services: Services) -> Values:
    name, area = slots.get("name"), slots.get("area")
    if name is not None:
        try:
            _devices(slots, services.config)
        except ActionError:  # "the bedroom desk fan" when it is in the office
            return {"target": f"{area} {name}"}
        return {"target": str(name)}
    if area is not None:
        return {"target": f"{area} lights"}
    return {"target": "lights"}


def _switch(slots: Slots, services: Services, on: bool) -> str | None:
    state = "on" if on else "off"
    devices = _devices(slots, services.config)
    if not devices:
        if slots.get("area") is None:
            raise ActionError(f"no device named {slots.get('name')!r} is configured")
        services.call_service(f"light.turn_{state}", area_id=slug(str(slots["area"])))
        return None
    for name, device in devices:
        _LOGGER.debug("switching %s %s", name, state)
        if device.entity_id:
            domain = device.entity_id.split(".", 1)[0]
            services.call_service(f"{domain}.turn_{state}", entity_id=device.entity_id)
        if device.topic:
            services.publish(device.topic, device.payload_on if on else device.payload_off)
    return None


def _turn_on(slots: Slots, services: Services) -> str | None:
    return _switch(slots, services, on=True)


def _turn_off(slots: Slots, services: Services) -> str | None:
    return _switch(slots, services, on=False)


BUILTINS: Final[Mapping[str, Builtin]] = {
    b.name: b
    for b in (
        Builtin(
            "timer.start", describe_timer, start_timer, frozenset({"duration", "label", "timer"})
        ),
        Builtin("timer.cancel", _no_values, cancel_timer),
        Builtin("timer.status", _no_values, timer_status),
        Builtin("timer.silence", _no_values, silence_timers),
        Builtin("time.now", _describe_time, _nothing, frozenset({"time"})),
        Builtin("date.today", _describe_date, _nothing, frozenset({"date", "year"})),
        Builtin("volume.set", _no_values, _set_volume),
        Builtin("device.turn_on", _describe_switch, _turn_on, frozenset({"target"})),
        Builtin("device.turn_off", _describe_switch, _turn_off, frozenset({"target"})),
    )
}
"""Every built-in handler by name."""
