"""The intents the language model may choose from, as a JSON schema that constrains its output.

    choices = choices_from_hassil(skills.intents)          # or a list of IntentChoice
    schema = intent_schema(choices)                       # {"anyOf": [...]} for the grammar
    intent = check_intent(json.loads(reply), choices)     # the reply, validated again

A reply is `{"intent": NAME, "slots": {SLOT: VALUE, ...}}`; NAME is one of the skills' intents
or `none` (the request fits none of them); each slot is optional and its value is one of the
slot list's values (text lists), an integer in its range (range lists) or short free text
(wildcards and lists the skills do not define).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from satellite.errors import SatelliteError

NONE_INTENT: Final = "none"
MAX_TEXT: Final = 60
"""Longest free-text slot value, in characters."""
MAX_ENUM_RANGE: Final = 1000
"""Ranges with fewer values are listed in the schema, so the grammar enforces their bounds."""
_INLINE_RANGE: Final = re.compile(r"^(\d+)\.\.(\d+)(?:,(\d+))?$")


class IntentSchemaError(SatelliteError):
    """The intents cannot be described, or a reply does not fit them."""


@dataclass(frozen=True)
class SlotChoice:
    """What one slot may hold."""

    kind: Literal["enum", "range", "text"]
    values: tuple[str, ...] = ()
    """Allowed values of an `enum` slot."""
    minimum: int = 0
    maximum: int = 0
    """Inclusive bounds of a `range` slot."""

    def schema(self) -> dict[str, Any]:
        if self.kind == "enum":
            return {"type": "string", "enum": list(self.values)}
        if self.kind == "range" and self.maximum - self.minimum < MAX_ENUM_RANGE:
            # llama.cpp's schema converter ignores minimum/maximum: list the numbers instead
            return {"type": "integer", "enum": list(range(self.minimum, self.maximum + 1))}
        if self.kind == "range":
            return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        return {"type": "string", "maxLength": MAX_TEXT}

    def accepts(self, value: Any) -> bool:
        if self.kind == "enum":
            return isinstance(value, str) and value in self.values
        if self.kind == "range":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return ok and self.minimum <= value <= self.maximum
        return isinstance(value, str) and len(value) <= MAX_TEXT


@dataclass(frozen=True)
class IntentChoice:
    name: str
    slots: Mapping[str, SlotChoice] = field(default_factory=dict)
    description: str = ""
    """One line for the prompt, e.g. an example sentence."""


def choice(intent: str, description: str = "", /, **slots: Iterable[str] | range) -> IntentChoice:
    """Shorthand: `choice("TurnOn", name=["kitchen", "hall"], brightness=range(0, 101))`."""
    built: dict[str, SlotChoice] = {}
    for slot, allowed in slots.items():
        if isinstance(allowed, range):
            built[slot] = SlotChoice("range", minimum=allowed.start, maximum=allowed.stop - 1)
        else:
            built[slot] = SlotChoice("enum", tuple(str(v) for v in allowed))
    return IntentChoice(intent, built, description)


def intent_schema(choices: Iterable[IntentChoice]) -> dict[str, Any]:
    """The JSON schema of a reply: one branch per intent plus `none`."""
    branches = [_branch(c) for c in _checked(choices)]
    branches.append(_branch(IntentChoice(NONE_INTENT)))
    return {"anyOf": branches}


def _branch(item: IntentChoice) -> dict[str, Any]:
    slots = {
        "type": "object",
        "properties": {name: slot.schema() for name, slot in sorted(item.slots.items())},
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"intent": {"const": item.name}, "slots": slots},
        "required": ["intent", "slots"],
        "additionalProperties": False,
    }


def _checked(choices: Iterable[IntentChoice]) -> list[IntentChoice]:
    found = list(choices)
    names = [c.name for c in found]
    if NONE_INTENT in names:
        raise IntentSchemaError(f'"{NONE_INTENT}" is reserved for "no intent fits"')
    if len(set(names)) != len(names):
        raise IntentSchemaError("intent names must be unique")
    for item in found:
        empty = [s for s, c in item.slots.items() if c.kind == "enum" and not c.values]
        if empty:
            raise IntentSchemaError(f"intent {item.name}: slot {empty[0]} has no allowed values")
    return found


def check_intent(reply: Any, choices: Iterable[IntentChoice]) -> dict[str, Any]:
    """`reply` if it is a valid `{"intent", "slots"}` object for `choices`; else an error."""
    known = {c.name: c for c in choices}
    known[NONE_INTENT] = IntentChoice(NONE_INTENT)
    if not isinstance(reply, dict) or set(reply) != {"intent", "slots"}:
        raise IntentSchemaError(f"expected an object with intent and slots, got {reply!r}")
    item = known.get(reply["intent"])
    if item is None:
        raise IntentSchemaError(f"unknown intent {reply['intent']!r}")
    slots = reply["slots"]
    if not isinstance(slots, dict):
        raise IntentSchemaError(f"slots: expected an object, got {slots!r}")
    for name, value in slots.items():
        slot = item.slots.get(name)
        if slot is None or not slot.accepts(value):
            raise IntentSchemaError(f"intent {item.name}: bad slot {name}={value!r}")
    return {"intent": item.name, "slots": dict(slots)}


def describe(choices: Iterable[IntentChoice]) -> str:
    """The intents as prompt lines: `- TurnOn(name: kitchen|hall): turn on a light`."""
    lines = []
    for item in choices:
        slots = ", ".join(f"{n}: {_describe_slot(s)}" for n, s in sorted(item.slots.items()))
        line = f"- {item.name}({slots})"
        lines.append(f"{line}: {item.description}" if item.description else line)
    lines.append(f"- {NONE_INTENT}(): the request fits none of the above")
    return "\n".join(lines)


def branches(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Intent name → JSON schema of its slots object, for a schema made by `intent_schema`."""
    found: dict[str, dict[str, Any]] = {}
    for branch in schema.get("anyOf", []):
        props = branch.get("properties", {}) if isinstance(branch, dict) else {}
        name = props.get("intent", {}).get("const")
        slots = props.get("slots")
        if not isinstance(name, str) or not isinstance(slots, dict):
            raise IntentSchemaError("expected a schema made by intent_schema()")
        found[name] = slots
    if NONE_INTENT not in found:
        raise IntentSchemaError(f'the schema has no "{NONE_INTENT}" branch')
    return found


def name_grammar(names: Iterable[str]) -> str:
    """GBNF for one of `names` followed by the closing quote of the JSON string."""
    choices = " | ".join(f'"{_gbnf_escape(name)}"' for name in names)
    return f'root ::= ( {choices} ) "\\""\n'


def _gbnf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def describe_schema(schema: dict[str, Any]) -> str:
    """Prompt lines for a schema made by `intent_schema` (any other schema: its JSON)."""
    lines = []
    for branch in schema.get("anyOf", []):
        props = branch.get("properties", {})
        name = props.get("intent", {}).get("const")
        slots = props.get("slots", {}).get("properties", {})
        if not isinstance(name, str) or not isinstance(slots, dict):
            return json.dumps(schema)
        described = ", ".join(f"{n}: {_describe_json(s)}" for n, s in slots.items())
        lines.append(f"- {name}({described})")
    return "\n".join(lines) if lines else json.dumps(schema)


def _describe_json(slot: dict[str, Any]) -> str:
    if "enum" in slot:
        values = [str(v) for v in slot["enum"]]
        numeric = len(values) > 8 and all(v.lstrip("-").isdigit() for v in values)
        return f"{values[0]}..{values[-1]}" if numeric else "|".join(values)
    return "text"


def _describe_slot(slot: SlotChoice) -> str:
    if slot.kind == "enum":
        return "|".join(slot.values)
    if slot.kind == "range":
        return f"{slot.minimum}..{slot.maximum}"
    return "text"


def choices_from_hassil(
    intents: Any, examples: Mapping[str, str] | None = None
) -> list[IntentChoice]:
    """One `IntentChoice` per intent of a hassil `Intents` (e.g. `SkillSet.intents`): the slots
    its sentence templates capture, with their lists' values. Fixed `slots:` are not choices."""
    examples = examples or {}
    found = []
    for name, intent in sorted(intents.intents.items()):
        slots: dict[str, SlotChoice] = {}
        for data in intent.data:
            lists = {**intents.slot_lists, **data.slot_lists}
            rules = {**intents.expansion_rules, **data.expansion_rules}
            for sentence in data.sentences:
                for ref in sentence.expression.list_references(rules):
                    slot = _slot_choice(ref.list_name, lists, data.wildcard_list_names)
                    slots[ref.slot_name] = _merge(slots.get(ref.slot_name), slot)
        found.append(IntentChoice(name, slots, examples.get(name, "")))
    return found


def _slot_choice(list_name: str, lists: Mapping[str, Any], wildcards: set[str]) -> SlotChoice:
    from hassil.intents import RangeSlotList, TextSlotList

    inline = _INLINE_RANGE.match(list_name)
    if inline:
        return SlotChoice("range", minimum=int(inline[1]), maximum=int(inline[2]))
    slot_list = lists.get(list_name)
    if isinstance(slot_list, RangeSlotList) and list_name not in wildcards:
        return SlotChoice("range", minimum=slot_list.start, maximum=slot_list.stop)
    if isinstance(slot_list, TextSlotList) and slot_list.values:
        values = dict.fromkeys(str(v.value_out) for v in slot_list.values)
        return SlotChoice("enum", tuple(values))
    return SlotChoice("text")


def _merge(old: SlotChoice | None, new: SlotChoice) -> SlotChoice:
    """Two templates using one slot name: union of enums, widest range, else free text."""
    if old is None or old == new:
        return new
    if old.kind == new.kind == "enum":
        return SlotChoice("enum", tuple(dict.fromkeys(old.values + new.values)))
    if old.kind == new.kind == "range":
        low, high = min(old.minimum, new.minimum), max(old.maximum, new.maximum)
        return SlotChoice("range", minimum=low, maximum=high)
    return SlotChoice("text")
