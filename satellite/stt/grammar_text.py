"""Template text as spoken words, the grammar's limits, and the small helpers of the compiler.

Text is lower-cased, punctuation dropped, `-`/`_` split words, `%` is read "percent" and digits
are spelled out (hassil's own spelling, through unicode-rbnf, so that hassil matches it again).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from hassil.expression import Expression, Group, Sentence, TextChunk
from hassil.expression import Sequence as TemplateSequence
from hassil.intents import RangeFractionType, RangeSlotList, SlotList
from hassil.numbers import get_rbnf_engine

from satellite.stt.grammar_tree import Skip

MAX_EXPANSION: Final = 5000
"""Most wordings a glued piece of template (`{a}{b}`) may expand to."""
MAX_PERMUTATION: Final = 5
"""Most items in a permutation `(a;b;c)`: n items give n! orderings."""
MAX_RANGE_NUMBERS: Final = 1001
"""Most numbers in a range that is spelled out (the skills loader's limit, for any Intents)."""
MAX_GRAMMAR_WORDS: Final = 25_000
"""Most words in the grammar with every rule and list written out where it is used: that is
how pocketsphinx builds its search graph, at about 10 KB of memory per word (measured: a
grammar of 41,000 written-out words took 430 MB and 2.6 s to load, one of 655,000 took 8 GB)."""
MAX_DEPTH: Final = 24
"""Deepest nesting of expansion rules (guards against rules that refer to themselves)."""
_SYMBOLS: Final = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_NOT_WORD = re.compile(r"[^\w'\s]+")


@dataclass(frozen=True)
class Scope:
    """Lists and expansion rules visible to one block of sentences."""

    key: str
    lists: Mapping[str, SlotList]
    rules: Mapping[str, Sentence]


def spaced(text: str) -> str:
    """Symbols read as words and punctuation (bar apostrophes) as spaces: they split words."""
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    return _NOT_WORD.sub(" ", text.replace("-", " ").replace("_", " "))


def normalize(text: str, language: str = "en") -> list[str]:
    """Spoken words of template text: lower case, no punctuation, digits spelled out."""
    words: list[str] = []
    for token in spaced(text.casefold()).split():
        token = token.strip("'")
        if token.isdigit():
            words.extend(number_words(int(token), language)[0])
        elif token:
            words.append(token)
    return words


def number_words(number: float, language: str) -> list[tuple[str, ...]]:
    """How a number is spoken (hassil's own spelling, through unicode-rbnf)."""
    try:
        engine = get_rbnf_engine(language)
    except ValueError as err:
        raise Skip(f"no number words for language {language!r}") from err
    result = engine.format_number(number).text_by_ruleset
    texts = [result["spellout-cardinal"]] if "spellout-cardinal" in result else result.values()
    spoken: list[tuple[str, ...]] = []
    for text in texts:
        words = tuple(_NOT_WORD.sub(" ", text.casefold().replace("-", " ")).split())
        if words and words not in spoken:
            spoken.append(words)
    return spoken


def flatten(items: Iterable[Expression]) -> Iterator[Expression]:
    """Items of nested plain sequences, in order (so their spaces become visible)."""
    for item in items:
        if type(item) in (Group, TemplateSequence):
            yield from flatten(item.items)  # type: ignore[attr-defined]
        else:
            yield item


def clusters(items: Iterable[Expression]) -> list[list[str | Expression]]:
    """Split a sequence at whitespace into runs of pieces that touch (glue into words)."""
    found: list[list[str | Expression]] = [[]]
    for item in flatten(items):
        if not isinstance(item, TextChunk):
            found[-1].append(item)
            continue
        for piece in re.split(r"(\s+)", spaced(item.text)):
            if not piece:
                continue
            if piece.isspace():
                found.append([])
            else:
                found[-1].append(piece)
    return [c for c in found if c]


def capped(texts: list[str], more: list[str], add: bool = False) -> list[str]:
    """`more`, when adding it to (or gluing it after) `texts` stays within MAX_EXPANSION."""
    size = len(texts) + len(more) if add else len(texts) * len(more)
    if size > MAX_EXPANSION:
        raise Skip(f"touching pieces expand to more than {MAX_EXPANSION} wordings")
    return more


def range_count(slot_list: RangeSlotList) -> int:
    whole = len(range(slot_list.start, slot_list.stop + 1, slot_list.step))
    return whole * (1 + len(RangeFractionType.get_fractions(slot_list.fraction_type)))


def check_range(slot_list: RangeSlotList) -> None:
    count = range_count(slot_list)
    if count > MAX_RANGE_NUMBERS:
        raise Skip(f"a range of {count:,} numbers; at most {MAX_RANGE_NUMBERS:,} are spelled out")


def source(metadata: Mapping[str, object] | None, number: int) -> str:
    """`file:line` of sentence `number` of a block, from the skills' metadata, else ''."""
    meta = metadata or {}
    lines = meta.get("lines")
    line = lines[number] if isinstance(lines, list) and number < len(lines) else 0
    path = meta.get("file")
    return "" if not path else f"{path}:{line}" if line else str(path)


def names(lists: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(lists))


def text_of(expr: Expression) -> str:
    return expr.text if isinstance(expr, TextChunk) else type(expr).__name__


def rule_name(key: tuple[str, str, str], taken: Container[str]) -> str:
    """A JSGF rule name for `key` (kind, scope, name) that is not taken nor `command`."""
    kind, scope, name = key
    base = re.sub(r"\W+", "_", f"{kind}_{scope}_{name}" if scope else f"{kind}_{name}")
    candidate, n = base, 2
    while candidate in taken or candidate == "command":
        candidate, n = f"{base}_{n}", n + 1
    return candidate
