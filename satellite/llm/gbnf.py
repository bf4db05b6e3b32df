"""The intents' JSON schema as a GBNF grammar, for servers that take one (`grammar` in the
request: llama.cpp's server, llama-cpp-python's): the reply can only be
`{"intent": NAME, "slots": {...}}` with a known intent and its own slots.

    grammar = intent_grammar(intent_schema(choices))

Each intent is one branch, its name written out, then its slots object: each slot optional,
in the schema's (sorted) order, with a value of its kind: one of an enum's values, a whole
number (a range's numbers listed when it is short, as the schema lists them), or a JSON string
of at most `MAX_TEXT` characters. Spaces are allowed only where one is usual (after `:` and
`,`), one at most, so a model cannot pad its reply without end. What the grammar cannot say (a
long range's bounds) the reply's check (`check_intent`) still holds it to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from satellite.llm.schema import MAX_TEXT, IntentSchemaError, branches

MAX_DIGITS: Final = 10
"""Longest whole number a slot may hold, in digits (an `int` range's)."""
SHARED: Final = (
    'ws ::= " "?',
    f'text ::= "\\"" char{{0,{MAX_TEXT}}} "\\""',
    'char ::= [^"\\\\\\x00-\\x1f] | "\\\\" ["\\\\/bfnrt]',
    f'number ::= "-"? [0-9]{{1,{MAX_DIGITS}}}',
)


def intent_grammar(schema: dict[str, Any]) -> str:
    """GBNF for the replies `schema` (made by `intent_schema`) admits."""
    rules: list[str] = []
    names = []
    for number, (name, slots) in enumerate(branches(schema).items()):
        rule = f"intent{number}"
        names.append(rule)
        slots_rule = f"slots{number}"
        head = f'{rule} ::= {_json_literal(name)} "," ws "\\"slots\\":" ws'
        rules.append(f"{head} {slots_rule}")
        rules += _slots_rules(slots_rule, slots)
    root = f'root ::= "{{" "\\"intent\\":" ws ( {" | ".join(names)} ) "}}"'
    return "\n".join([root, *rules, *SHARED]) + "\n"


def _slots_rules(rule: str, slots: dict[str, Any]) -> list[str]:
    """The slots object: `{}` or its slots, each at most once, in order, comma-separated."""
    properties = slots.get("properties", {})
    if not isinstance(properties, dict):
        raise IntentSchemaError(f"{rule}: expected the slots' properties as an object")
    keys = list(properties)
    if not keys:
        return [f'{rule} ::= "{{" "}}"']
    starts = [f"{rule}-from{i}" for i in range(len(keys))]
    rules = [f'{rule} ::= "{{" ( {" | ".join(starts)} )? "}}"']
    for i, key in enumerate(keys):
        pair = f'{_json_literal(key)} ":" ws {_value(properties[key], key)}'
        later = starts[i + 1 :]
        tail = f' ( "," ws ( {" | ".join(later)} ) )?' if later else ""
        rules.append(f"{starts[i]} ::= {pair}{tail}")
    return rules


def _value(slot: Any, key: str) -> str:
    """The grammar of one slot's value, from its JSON schema (`SlotChoice.schema()`)."""
    if not isinstance(slot, dict):
        raise IntentSchemaError(f"slot {key}: expected a JSON schema object, got {slot!r}")
    if "enum" in slot:
        return _choices(slot["enum"])
    if slot.get("type") == "integer":
        return "number"
    if slot.get("type") == "string":
        return "text"
    raise IntentSchemaError(f"slot {key}: no grammar for the schema {slot!r}")


def _choices(values: Iterable[Any]) -> str:
    found = [_json_literal(value) for value in values]
    if not found:
        raise IntentSchemaError("an enum slot with no values")
    return f"( {' | '.join(found)} )"


def _json_literal(value: Any) -> str:
    """A GBNF literal of `value` written as JSON (a string in its quotes, a number as is)."""
    return literal(json.dumps(value, ensure_ascii=False))


def literal(text: str) -> str:
    """`text` as a GBNF string literal (quotes, backslashes and line ends escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'
