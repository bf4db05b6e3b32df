"""Checks on hassil sentence templates: syntax, referenced lists and rules, slot names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hassil import Group, ListReference, RuleReference, Sentence, parse_sentence


class SentenceError(ValueError):
    """A sentence template or expansion rule that cannot be used."""


def parse(text: str) -> Sentence:
    """Parse one template; raises SentenceError with hassil's reason."""
    if not isinstance(text, str) or not text.strip():
        raise SentenceError("expected a sentence template, got an empty one")
    try:
        return parse_sentence(text, keep_text=True)
    except Exception as err:  # hassil raises ParseError, AssertionError, ...
        reason = str(err) or type(err).__name__
        raise SentenceError(f'bad sentence template "{text}": {reason}') from err


def _walk(expression: Any) -> Iterator[Any]:
    yield expression
    if isinstance(expression, Group):
        for item in expression.items:
            yield from _walk(item)


def check_references(
    sentence: Sentence, lists: Mapping[str, Any] | set[str], rules: Mapping[str, Sentence]
) -> set[str]:
    """Slot names the template fills (through rules too); raises on unknown lists/rules."""
    slots: set[str] = set()
    pending, seen = [sentence], set()
    while pending:
        current = pending.pop()
        for item in _walk(current.expression):
            if isinstance(item, ListReference):
                if not item.is_inline_range and item.list_name not in lists:
                    raise SentenceError(f'unknown list "{{{item.list_name}}}" in "{sentence.text}"')
                slots.add(str(item.slot_name))
            elif isinstance(item, RuleReference):
                if item.rule_name not in rules:
                    raise SentenceError(f'unknown rule "<{item.rule_name}>" in "{sentence.text}"')
                if item.rule_name not in seen:
                    seen.add(item.rule_name)
                    pending.append(rules[item.rule_name])
    return slots


def rule_cycle(rules: Mapping[str, Sentence]) -> str | None:
    """The name of a rule that (indirectly) refers to itself, if any."""

    def refs(name: str) -> set[str]:
        return {
            str(i.rule_name)
            for i in _walk(rules[name].expression)
            if isinstance(i, RuleReference) and i.rule_name in rules
        }

    for start in rules:
        pending, seen = list(refs(start)), set()
        while pending:
            name = pending.pop()
            if name == start:
                return start
            if name not in seen:
                seen.add(name)
                pending.extend(refs(name))
    return None
