"""Checks on hassil sentence templates: syntax, referenced lists and rules, slot names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hassil import (
    Alternative,
    Group,
    ListReference,
    Permutation,
    RangeSlotList,
    RuleReference,
    Sentence,
    TextChunk,
    TextSlotList,
    WildcardSlotList,
    parse_sentence,
)

from satellite.skills.bounds import BoundsError, check_range


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
                _check_inline_range(item, sentence)
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


def _check_inline_range(item: ListReference, sentence: Sentence) -> None:
    inline = item.get_inline_range() if item.is_inline_range else None
    if inline is None:
        return
    try:
        check_range(*inline)
    except BoundsError as err:
        raise SentenceError(f'{{{item.list_name}}} in "{sentence.text}": {err}') from err


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


def first_wording(
    sentence: Sentence, lists: Mapping[str, Any], rules: Mapping[str, Sentence]
) -> str | None:
    """One example of a template, without writing out the others: optionals left out, the
    first of each alternative and list, a range's first number in digits. None when a list it
    needs has no values (no devices configured yet). Its cost is the size of the template."""

    def first(expr: Any, depth: int) -> str | None:
        if isinstance(expr, TextChunk):
            return str(expr.original_text)
        if isinstance(expr, Alternative):
            if expr.is_optional:
                return ""
            return next((t for t in (first(i, depth) for i in expr.items) if t is not None), None)
        if isinstance(expr, Group):  # a sequence or a permutation: items in their order
            parts = [first(item, depth) for item in expr.items]
            glue = " " if isinstance(expr, Permutation) else ""
            return None if None in parts else glue.join(str(p) for p in parts)
        if isinstance(expr, RuleReference):
            rule = rules.get(expr.rule_name)
            return None if rule is None or depth > 32 else first(rule.expression, depth + 1)
        if isinstance(expr, ListReference):
            value: str | None = _first_value(expr, lists, first, depth)
            return value
        return None

    text = first(sentence.expression, 0)
    return None if text is None else " ".join(str(text).split())


def _first_value(ref: ListReference, lists: Mapping[str, Any], first: Any, depth: int) -> Any:
    inline = ref.get_inline_range() if ref.is_inline_range else None
    slot_list = lists.get(ref.list_name)
    if inline is not None:
        return str(inline[0])
    if isinstance(slot_list, RangeSlotList):
        return str(slot_list.start)
    if isinstance(slot_list, TextSlotList):
        return first(slot_list.values[0].text_in, depth + 1) if slot_list.values else None
    if isinstance(slot_list, WildcardSlotList):
        return f"{{{ref.slot_name}}}"
    return None
