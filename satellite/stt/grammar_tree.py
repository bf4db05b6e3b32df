"""The grammar's pieces: the tree a template compiles to, what is reported, the result.

A template becomes a tree of `Words`, `Seq` (one after another), `Alt` (one of, `optional` for
`[...]`) and `Ref` (a named rule: a list, a number range or an expansion rule); `render` writes
a tree as JSGF. `Grammar` is the compiled result, `MissingWord` and `SkippedSentence` what was
left out and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from satellite.errors import SatelliteError


class GrammarError(SatelliteError):
    """The sentence templates cannot be turned into a grammar (none is speakable, bad input)."""


class Skip(Exception):
    """This sentence cannot be compiled; the message says why."""


@dataclass(frozen=True)
class MissingWord:
    """A word with no pronunciation, and where it was found."""

    word: str
    intent: str
    sentence: str
    """The template (or `list {name} value "..."`) that contains the word."""


@dataclass(frozen=True)
class SkippedSentence:
    """A template left out of the grammar."""

    intent: str
    sentence: str
    reason: str
    source: str = ""
    """`file:line` of the template, when the Intents came from skill files."""


@dataclass(frozen=True)
class Grammar:
    """A compiled grammar: JSGF text plus what went into it."""

    rules: tuple[tuple[str, str], ...]
    """(name, body) of every JSGF rule; the first, `command`, has every sentence."""
    vocabulary: frozenset[str]
    """Every word the grammar can produce."""
    missing_words: tuple[MissingWord, ...] = ()
    skipped: tuple[SkippedSentence, ...] = ()
    pronunciations: Mapping[str, str] = field(default_factory=dict)
    """Pronunciations (word → phones) derived for words not in the dictionary."""
    sentence_count: int = 0
    """How many templates made it into the grammar."""

    @property
    def jsgf(self) -> str:
        """The grammar as JSGF text, `<command>` public."""
        return self.render()

    def render(self, root: str = "command", extra: Iterable[tuple[str, str]] = ()) -> str:
        """JSGF text with `root` as the only public rule; `extra` adds (name, body) rules."""
        lines = ["#JSGF V1.0;", "", "grammar satellite;", ""]
        for name, body in (*self.rules, *extra):
            public = "public " if name == root else ""
            lines.append(f"{public}<{name}> = {body};")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Words:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    items: tuple[Node, ...]
    optional: bool = False


@dataclass(frozen=True)
class Ref:
    name: str


Node = Words | Seq | Alt | Ref
EMPTY: Final = Words(())


def sequence(parts: Iterable[Node | None]) -> Node | None:
    """Items one after another; None (nothing speakable) if any item is None."""
    items: list[Node] = []
    for part in parts:
        if part is None:
            return None
        if isinstance(part, Seq):
            items.extend(part.items)
        elif part != EMPTY:
            items.append(part)
    merged: list[Node] = []
    for item in items:
        if merged and isinstance(item, Words) and isinstance(merged[-1], Words):
            merged[-1] = Words(merged[-1].words + item.words)
        else:
            merged.append(item)
    if not merged:
        return EMPTY
    return merged[0] if len(merged) == 1 else Seq(tuple(merged))


def alternatives(parts: Iterable[Node | None], optional: bool = False) -> Node | None:
    """One of the items; None if none is speakable; `[...]` if optional or one item is empty."""
    items: list[Node] = []
    for part in parts:
        if part is None:
            continue
        if part == EMPTY:
            optional = True
        elif isinstance(part, Alt) and not part.optional:
            items.extend(i for i in part.items if i not in items)
        elif part not in items:
            items.append(part)
    if not items:
        return EMPTY if optional else None
    if len(items) == 1 and not optional:
        return items[0]
    return Alt(tuple(items), optional)


def render(node: Node) -> str:
    """JSGF expression text of a node."""
    if isinstance(node, Words):
        return " ".join(node.words) if node.words else "<NULL>"
    if isinstance(node, Ref):
        return f"<{node.name}>"
    if isinstance(node, Seq):
        return " ".join(render(item) for item in node.items)
    inner = " | ".join(render(item) for item in node.items)
    return f"[{inner}]" if node.optional else f"({inner})"


def words_of(node: Node, rules: Mapping[str, Node], seen: set[str] | None = None) -> set[str]:
    """Every word reachable from a node."""
    seen = set() if seen is None else seen
    if isinstance(node, Words):
        return set(node.words)
    if isinstance(node, Ref):
        if node.name in seen:
            return set()
        seen.add(node.name)
        return words_of(rules[node.name], rules, seen)
    out: set[str] = set()
    for item in node.items:
        out |= words_of(item, rules, seen)
    return out


def reachable(node: Node, rules: Mapping[str, Node]) -> set[str]:
    """Names of the rules a node uses, directly or through other rules."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Ref):
            if current.name not in found:
                found.add(current.name)
                stack.append(rules[current.name])
        elif not isinstance(current, Words):
            stack.extend(current.items)
    return found
