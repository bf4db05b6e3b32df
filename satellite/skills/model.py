"""What a loaded skill is: intents with sentences, a response, and actions. All frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SlotValue = str | int | float | bool | None
"""A slot's typed value: numbers from range lists are `int` (or `float` for fractions)."""


@dataclass(frozen=True)
class Problem:
    """A skill file that could not be loaded, and where."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class MqttAction:
    topic: str
    payload: Any = ""
    """A string template, or a mapping/list whose strings are templates (sent as JSON)."""
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True)
class HomeAssistantAction:
    service: str
    """`domain.service`, e.g. `light.turn_on`."""
    entity_id: Any = None
    """A template string or a list of them."""
    data: Any = None
    """Extra service data: a mapping whose strings are templates."""


@dataclass(frozen=True)
class HttpAction:
    url: str
    method: str = "GET"
    body: Any = None
    """A string template, or a mapping/list sent as JSON."""
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True)
class ProgramAction:
    path: str
    """Absolute path of an allow-listed program."""
    args: tuple[str, ...] = ()
    """Argument templates; each stays exactly one argument."""
    timeout: float | None = None


@dataclass(frozen=True)
class BuiltinAction:
    name: str
    """A handler from `satellite.skills.builtin.BUILTINS`, e.g. `timer.start`."""


Action = MqttAction | HomeAssistantAction | HttpAction | ProgramAction | BuiltinAction


@dataclass(frozen=True)
class SentenceBlock:
    """One `data:` entry of an intent: sentence templates sharing fixed slots."""

    sentences: tuple[str, ...]
    slots: Mapping[str, Any] = field(default_factory=dict)
    requires_context: Mapping[str, Any] = field(default_factory=dict)
    excludes_context: Mapping[str, Any] = field(default_factory=dict)
    lines: tuple[int, ...] = ()
    """The line of each sentence in its file (0 when not known)."""
    lite_grammar: bool = True
    """False: matched in text and by the full profile, left out of the lite profile's grammar."""


@dataclass(frozen=True)
class IntentSpec:
    name: str
    skill: str
    blocks: tuple[SentenceBlock, ...]
    response: str = ""
    """Spoken reply template; `{slot}` names are replaced, `{{`/`}}` are literal braces."""
    error_response: str = "Sorry, I could not do that."
    actions: tuple[Action, ...] = ()
    line: int = 0
    expect_answer: bool = False
    """The response asks something: the satellite listens again without the wake word
    (`conversation.follow_up`)."""

    @property
    def builtins(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.actions if isinstance(a, BuiltinAction))


@dataclass(frozen=True)
class Skill:
    name: str
    path: Path
    intents: tuple[IntentSpec, ...]
    description: str = ""
    lists: Mapping[str, Any] = field(default_factory=dict)
    """Slot lists in hassil's YAML form (plain data)."""
    expansion_rules: Mapping[str, str] = field(default_factory=dict)
    skip_words: tuple[str, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)
    """Line of each list (`list:NAME`) and rule (`rule:NAME`), for reporting clashes."""


@dataclass(frozen=True)
class Match:
    """A recognised sentence."""

    intent: str
    slots: Mapping[str, SlotValue]
    text: str
    response: str
    """The reply it gives when its actions succeed."""
    skill: str
    spec: IntentSpec = field(repr=False, compare=False)
    values: Mapping[str, SlotValue] = field(default_factory=dict, repr=False, compare=False)
    """Everything the templates can use: slots, built-in values, `intent`, `text`."""
