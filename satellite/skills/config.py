"""The `skills:` section of the configuration.

skills:
  directories: [~/.config/satellite/skills]   # user skill folders, after the built-ins
  builtins: true                              # load the skills in plugins/
  areas: [kitchen, bedroom, living room, office]
  devices:                                    # name → where to send on/off
    office lamp: {area: office, entity_id: light.office_lamp}
    desk fan: {area: office, topic: home/office/fan/set, payload_on: "1", payload_off: "0"}
  allowed_programs: [/usr/local/bin/garage-door]
  http_timeout: 5
  program_timeout: 10
  homeassistant_topic: satellite/{site_id}/service_call
  state_dir: ~/.local/state/satellite
  language: en
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

PACKAGE_DIR: Final = Path(__file__).resolve().parent.parent
REPO_PLUGINS: Final = PACKAGE_DIR.parent / "plugins"
PACKAGED_PLUGINS: Final = PACKAGE_DIR / "data" / "plugins"
_ENTITY_ID = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z0-9_]+$")


def builtin_plugins_dir() -> Path:
    """The checkout's `plugins/`, else the copy packaged as `satellite/data/plugins`."""
    if (PACKAGE_DIR.parent / "pyproject.toml").is_file() and REPO_PLUGINS.is_dir():
        return REPO_PLUGINS
    return PACKAGED_PLUGINS


def default_state_dir() -> str:
    """`$XDG_STATE_HOME/satellite`, else `~/.local/state/satellite`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "satellite")


@dataclass(frozen=True)
class DeviceConfig:
    """One device the built-in light skill can switch, named by the mapping key."""

    entity_id: str = ""
    """Home Assistant entity (`light.office_lamp`): switched by a service call over MQTT."""
    topic: str = ""
    """An MQTT topic that takes `payload_on` / `payload_off` directly."""
    area: str = ""
    """The area the device is in, so that "turn on the office lights" includes it."""
    payload_on: str = "ON"
    payload_off: str = "OFF"

    def __post_init__(self) -> None:
        if not self.entity_id and not self.topic:
            raise ValueError("entity_id: expected an entity_id or a topic (or both), got neither")
        if self.entity_id and not _ENTITY_ID.match(self.entity_id):
            raise ValueError(f'entity_id: expected "domain.name", got "{self.entity_id}"')
        if any(c in self.topic for c in "#+"):
            raise ValueError(f'topic: expected a topic without wildcards, got "{self.topic}"')


@dataclass(frozen=True)
class TimersConfig:
    """How a timer that has run out rings (`app/ringer.py`)."""

    ring_timeout: float = 300.0
    """Seconds a timer rings before it stops by itself."""
    ring_interval: float = 3.0
    """Seconds of quiet between two rings (a ring: the earcon, then "Your … timer is done.")."""

    def __post_init__(self) -> None:
        for name in ("ring_timeout", "ring_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds")


# fmt: off
TIMER_NAMES: Final = (
    "pasta", "egg", "eggs", "pizza", "tea", "coffee", "bread", "rice", "oven", "cake",
    "cookie", "laundry", "potato", "chicken", "soup", "dinner", "workout", "nap",
)
"""Timer names understood when the configuration names none."""
# fmt: on


@dataclass(frozen=True)
class SkillsConfig:
    directories: tuple[str, ...] = ()
    """User folders of skill YAML files, loaded after the built-ins (`~` is expanded)."""
    builtins: bool = True
    """Load the built-in skills from `plugins/`."""
    areas: tuple[str, ...] = ("kitchen", "bedroom", "living room", "office")
    """Area names the `{area}` list recognises (device areas are added)."""
    devices: dict[str, DeviceConfig] = field(default_factory=dict)
    """Spoken device name → entity id and/or MQTT topic; the `{name}` list."""
    timer_names: tuple[str, ...] = TIMER_NAMES
    """What a timer may be called ("set a pasta timer for ten minutes"); the `{timer_name}`
    list."""
    allowed_programs: tuple[str, ...] = ()
    """Absolute paths of the programs a `program` action may run."""
    http_timeout: float = 5.0
    """Seconds an `http` action may take."""
    program_timeout: float = 10.0
    """Seconds a `program` action may run before it is killed."""
    homeassistant_topic: str = "satellite/{site_id}/service_call"
    """Topic for `homeassistant` actions; `{site_id}` is replaced."""
    state_dir: str = field(default_factory=default_state_dir)
    """Where running timers are kept (`timers.json`) so they survive a restart."""
    language: str = "en"
    """Language of the sentences (number words are recognised in this language)."""

    def __post_init__(self) -> None:
        for key in ("areas", "timer_names"):
            for i, name in enumerate(getattr(self, key)):
                if not name.strip():
                    raise ValueError(f"{key}[{i}]: expected a name, got an empty string")
        for i, program in enumerate(self.allowed_programs):
            if not os.path.isabs(program):
                raise ValueError(
                    f'allowed_programs[{i}]: expected an absolute path, got "{program}"'
                )
        for name in ("http_timeout", "program_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds")
        if not self.homeassistant_topic or any(c in self.homeassistant_topic for c in "#+"):
            raise ValueError("homeassistant_topic: expected a topic without wildcards")
        for name in self.devices:
            if not name.strip():
                raise ValueError("devices: expected device names, got an empty one")

    @property
    def all_areas(self) -> tuple[str, ...]:
        """The configured areas plus any area only named by a device, without repeats."""
        return _distinct([*self.areas, *(d.area for d in self.devices.values() if d.area)])

    @property
    def all_timer_names(self) -> list[str]:
        """The timer names, lower case, without repeats."""
        return list(_distinct(self.timer_names))

    @property
    def skill_dirs(self) -> tuple[Path, ...]:
        """Folders to load, built-ins first."""
        user = tuple(Path(d).expanduser() for d in self.directories)
        return ((builtin_plugins_dir(),) if self.builtins else ()) + user

    @property
    def timers_file(self) -> Path:
        return Path(self.state_dir).expanduser() / "timers.json"


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    """`names` lower case and trimmed, each once, in their first order."""
    return tuple(dict.fromkeys(n.strip().lower() for n in names))
