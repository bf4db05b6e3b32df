"""The skills' sentence templates as trees of words and slots, for the fuzzy matcher.

Every template of every intent (all blocks, the lite grammar's and the rest) becomes a tree of
`Lit` (one template word, normalised as `textnorm.words` does text), `Slot` (a list or number
range: the exact word sequences of its values), `Seq` and `Alt` (`optional` for `[...]`).
Expansion rules are written out where they are used; a permutation becomes the alternatives of
its orderings.

A template the fuzzy matcher cannot hold to exact slot values is left out of the trees (it is
still matched exactly by hassil): one with a wildcard, a list glued to other text (`{name}'s`),
a permutation of more than MAX_PERMUTATION items, rules nested deeper than MAX_DEPTH, or more
than MAX_PARTS pieces written out.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from hassil import (
    Alternative,
    Group,
    Intents,
    ListReference,
    Permutation,
    RangeSlotList,
    RuleReference,
    Sentence,
    TextChunk,
    TextSlotList,
    parse_sentence,
)
from hassil.expression import Expression
from hassil.expression import Sequence as TemplateSequence

from satellite.skills.textnorm import number_words, words

_LOGGER = logging.getLogger(__name__)

MAX_PERMUTATION: Final = 4
MAX_DEPTH: Final = 24
MAX_PARTS: Final = 20_000
"""Most pieces one template may write out (its rules and alternatives included)."""
MAX_STRINGS: Final = 200
"""Most wordings a glued piece (`timer[s]`) or one list value (`(a|an)`) may expand to."""


class NotFuzzy(Exception):
    """This template is matched exactly only; the message says why."""


@dataclass(frozen=True)
class Lit:
    word: str
    out: str
    """What the repaired sentence says for it (the template's own text; "" after the first
    word of a piece that normalises to several, such as "what's")."""


@dataclass(frozen=True)
class Slot:
    name: str
    values: Mapping[tuple[str, ...], str] = field(compare=False, hash=False)
    """Normalised words of each value → its text in the repaired sentence."""
    longest: int = field(compare=False)


@dataclass(frozen=True)
class Seq:
    items: tuple[Part, ...]


@dataclass(frozen=True)
class Alt:
    items: tuple[Part, ...]
    optional: bool = False


Part = Lit | Slot | Seq | Alt


@dataclass(frozen=True)
class Template:
    intent: str
    text: str
    part: Part
    fixed: tuple[tuple[str, str], ...] = ()
    """The block's fixed slots (`slots:`), part of what the template means."""


def build_templates(intents: Intents) -> tuple[tuple[Template, ...], frozenset[str]]:
    """The trees of every template fuzzy matching can use, and every word they contain."""
    builder = _Builder(intents)
    found: list[Template] = []
    for intent in intents.intents.values():
        for data in intent.data:
            lists = {**intents.slot_lists, **data.slot_lists}
            rules = {**intents.expansion_rules, **data.expansion_rules}
            fixed = tuple(sorted((str(k), repr(v)) for k, v in (data.slots or {}).items()))
            for text in data.sentence_texts:
                part = builder.template(text, lists, rules)
                if part is not None:
                    found.append(Template(intent.name, text, part, fixed))
    return tuple(found), frozenset(builder.vocabulary)


class _Builder:
    def __init__(self, intents: Intents) -> None:
        self.language = intents.language or "en"
        self.vocabulary: set[str] = set()
        self._slots: dict[tuple[str, str, int], Slot] = {}
        self._lists: Mapping[str, Any] = {}
        self._rules: Mapping[str, Sentence] = {}
        self._parts = 0

    def template(
        self, text: str, lists: Mapping[str, Any], rules: Mapping[str, Sentence]
    ) -> Part | None:
        self._lists, self._rules, self._parts = lists, rules, 0
        try:
            return self._expr(parse_sentence(text, keep_text=True).expression, 0)
        except NotFuzzy as err:
            _LOGGER.debug("exact matching only for %r: %s", text, err)
        except Exception as err:  # hassil's parser; the skills loader reported it already
            _LOGGER.debug("cannot read %r for fuzzy matching: %s", text, err)
        return None

    def _count(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise NotFuzzy(f"more than {MAX_PARTS:,} pieces written out")

    def _expr(self, expr: Expression, depth: int) -> Part:
        self._count()
        if depth > MAX_DEPTH:
            raise NotFuzzy("expansion rules nested too deep")
        if isinstance(expr, TextChunk):
            return self._text(expr.text)
        if isinstance(expr, Permutation):
            return self._permutation(expr, depth)
        if isinstance(expr, Alternative):
            items = tuple(self._expr(item, depth + 1) for item in expr.items)
            empty = any(_empty(item) for item in items)
            kept = tuple(item for item in items if not _empty(item))
            return Alt(kept, expr.is_optional or empty)
        if isinstance(expr, Group):
            return self._sequence(expr.items, depth)
        if isinstance(expr, RuleReference):
            rule = self._rules.get(expr.rule_name)
            if rule is None:
                raise NotFuzzy(f"no expansion rule <{expr.rule_name}>")
            return self._expr(rule.expression, depth + 1)
        if isinstance(expr, ListReference):
            return self._slot(expr)
        raise NotFuzzy(f"a template piece {type(expr).__name__}")

    def _permutation(self, expr: Permutation, depth: int) -> Part:
        if len(expr.items) > MAX_PERMUTATION:
            raise NotFuzzy(f"a permutation of more than {MAX_PERMUTATION} items")
        orders = itertools.permutations(expr.items)
        return Alt(tuple(self._sequence(order, depth + 1) for order in orders))

    def _sequence(self, items: Iterable[Expression], depth: int) -> Part:
        parts: list[Part] = []
        for cluster in _clusters(items):
            if all(isinstance(piece, str) for piece in cluster):
                parts.append(self._text("".join(map(str, cluster))))
            elif len(cluster) == 1:
                assert not isinstance(cluster[0], str)
                parts.append(self._expr(cluster[0], depth + 1))
            else:
                glued = self._glued(cluster, depth)
                parts.append(Alt(tuple(self._text(text) for text in glued)))
        return Seq(tuple(parts))

    def _text(self, text: str) -> Part:
        parts: list[Part] = []
        for token in text.split():
            for index, word in enumerate(_words(token, self.language)):
                self.vocabulary.add(word)
                parts.append(Lit(word, token if index == 0 else ""))
        return parts[0] if len(parts) == 1 else Seq(tuple(parts))

    def _glued(self, cluster: list[str | Expression], depth: int) -> list[str]:
        texts = [""]
        for piece in cluster:
            options = [piece] if isinstance(piece, str) else self._strings(piece, depth + 1)
            texts = [a + b for a in texts for b in options]
            if len(texts) > MAX_STRINGS:
                raise NotFuzzy(f"touching pieces of more than {MAX_STRINGS} wordings")
        return texts

    def _strings(self, expr: Expression, depth: int) -> list[str]:
        """Every text of a piece of plain text, alternatives and rules (no lists)."""
        if depth > MAX_DEPTH:
            raise NotFuzzy("expansion rules nested too deep")
        if isinstance(expr, TextChunk):
            return [expr.text]
        if isinstance(expr, Alternative):
            found = [t for item in expr.items for t in self._strings(item, depth + 1)]
            return found if len(found) <= MAX_STRINGS else self._too_many()
        if isinstance(expr, Group) and not isinstance(expr, Permutation):
            return self._glued(list(expr.items), depth)
        if isinstance(expr, RuleReference) and expr.rule_name in self._rules:
            return self._strings(self._rules[expr.rule_name].expression, depth + 1)
        raise NotFuzzy(f"a {type(expr).__name__} glued to other text")

    def _too_many(self) -> list[str]:
        raise NotFuzzy(f"a piece of more than {MAX_STRINGS} wordings")

    def _slot(self, ref: ListReference) -> Slot:
        inline = ref.get_inline_range()
        slot_list = RangeSlotList(None, *inline) if inline else self._lists.get(ref.list_name)
        key = (ref.slot_name, ref.list_name, id(slot_list))
        if key not in self._slots:
            values = self._values(ref.list_name, slot_list)
            longest = max((len(v) for v in values), default=0)
            self._slots[key] = Slot(ref.slot_name, values, longest)
        return self._slots[key]

    def _values(self, name: str, slot_list: Any) -> dict[tuple[str, ...], str]:
        values: dict[tuple[str, ...], str] = {}
        if isinstance(slot_list, RangeSlotList):
            for number in slot_list.get_numbers():
                if float(number).is_integer():
                    values.setdefault(number_words(int(number), self.language), str(int(number)))
        elif isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                for text in self._strings(value.text_in, 0):
                    spoken = words(text, self.language)
                    if spoken:
                        values.setdefault(spoken, " ".join(text.split()))
        else:
            raise NotFuzzy(f"{{{name}}} is not a list of values or a number range")
        self.vocabulary.update(w for v in values for w in v)
        return values


def _empty(part: Part) -> bool:
    return isinstance(part, Seq) and not part.items


@functools.lru_cache(maxsize=4096)
def _words(token: str, language: str) -> tuple[str, ...]:
    return words(token, language)


def _flatten(items: Iterable[Expression]) -> Iterator[Expression]:
    for item in items:
        if type(item) in (Group, TemplateSequence):
            yield from _flatten(item.items)  # type: ignore[attr-defined]
        else:
            yield item


def _clusters(items: Iterable[Expression]) -> list[list[str | Expression]]:
    """A sequence split at whitespace into runs of pieces that touch (and glue into words)."""
    found: list[list[str | Expression]] = [[]]
    for item in _flatten(items):
        if not isinstance(item, TextChunk):
            found[-1].append(item)
            continue
        for piece in re.split(r"(\s+)", item.text):
            if piece.isspace():
                found.append([])
            elif piece:
                found[-1].append(piece)
    return [c for c in found if c]
