"""A character automaton of every sentence the skills' templates can say, for a recogniser that
writes text (Moonshine) to be held to them.

The templates, expansion rules and slot lists of a hassil `Intents` are compiled into one
nondeterministic automaton over characters, never into sentences: the built-in skills say
tens of millions of sentences (a timer's hours by minutes by seconds), the automaton has tens of
thousands of states. It is walked as a deterministic one whose states (sets of the
nondeterministic states) are made on first use and kept.

What a written sentence may look like:

- case is ignored, a hyphen stands for a space (`living-room`, `twenty-five`), spaces between
  words may be doubled, and one `.`, `?`, `!` or `,` may end it;
- a number of a range is its words (hassil's own spelling) or its digits; a percentage also
  `N%`;
- a text list is any of its spoken (`in`) values, areas and device names included.

A template with a wildcard (free text) or one that needs a context cannot be held to, and is
left out; a template whose automaton would pass the size limit is left out and reported with
its file and line.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from hassil import Intents, RangeSlotList, TextSlotList
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    TextChunk,
)
from hassil.numbers import get_rbnf_engine

log = logging.getLogger(__name__)

MAX_STATES: Final = 400_000
"""Most states of the whole automaton (about 40 bytes each, with their edges)."""
MAX_TEMPLATE_STATES: Final = 100_000
"""Most states one template may add; a larger one is left out and reported."""
MAX_DFA_STATES: Final = 50_000
"""Walked states kept; past this the cache starts again (memory stays bounded)."""
MAX_DEPTH: Final = 32
FINAL_MARKS: Final = ".?!,"
DEAD: Final = -1
_AFTER_SPACE: Final = frozenset(FINAL_MARKS + "%")
"""Characters that may follow a word where the template has a space."""


class AutomatonError(ValueError):
    """A template that cannot be compiled within the limits (the message says where)."""


@dataclass(frozen=True)
class Skipped:
    """A template left out of the automaton, and why."""

    intent: str
    template: str
    where: str
    """`file:line` when known."""
    reason: str


def spoken(text: str) -> str:
    """Text as the automaton reads it: lower case, hyphens and underscores as spaces."""
    out = text.casefold().replace("\u2019", "'")
    for mark in "-_\t\n\r▁":
        out = out.replace(mark, " ")
    return out


class _Nfa:
    """States with character edges and empty moves; grows until a limit."""

    def __init__(self, limit: int) -> None:
        self.chars: list[list[tuple[str, int]]] = []
        self.empty: list[list[int]] = []
        self.limit = limit
        self.base = 0
        """Where the template being built began (its size is counted from there)."""

    def state(self) -> int:
        if len(self.chars) >= self.limit:
            raise AutomatonError(
                f"written out, the template is larger than {self.limit - self.base:,} states "
                "(the sentence automaton's limit): split it or use fewer alternatives"
            )
        self.chars.append([])
        self.empty.append([])
        return len(self.chars) - 1

    def text(self, at: int, text: str) -> int:
        for char in text:
            nxt = self.state()
            self.chars[at].append((char, nxt))
            at = nxt
        return at

    def join(self, ends: Iterable[int]) -> int:
        end = self.state()
        for state in ends:
            self.empty[state].append(end)
        return end

    def words(self, at: int, strings: Iterable[str]) -> int:
        """Alternatives of plain strings as a trie from `at` (shared prefixes, one end)."""
        trie: dict[tuple[int, str], int] = {}
        ends = set()
        for string in strings:
            state = at
            for char in string:
                nxt = trie.get((state, char))
                if nxt is None:
                    nxt = trie[state, char] = self.state()
                    self.chars[state].append((char, nxt))
                state = nxt
            ends.add(state)
        return self.join(sorted(ends))


class _Frozen:
    """A compiled `_Nfa` in flat arrays (edges of state s at `at[s]:at[s + 1]`): a few bytes
    per edge instead of a Python list of tuples per state (12 MiB for the built-in skills)."""

    def __init__(self, nfa: _Nfa) -> None:
        self.char_at, self.char_to = _flat(nfa.chars, lambda edge: edge[1])
        self.char_is = "".join(char for edges in nfa.chars for char, _ in edges)
        self.empty_at, self.empty_to = _flat(nfa.empty, lambda target: target)

    def chars(self, state: int) -> Iterator[tuple[str, int]]:
        start, stop = self.char_at[state], self.char_at[state + 1]
        return zip(self.char_is[start:stop], self.char_to[start:stop], strict=True)

    def empty(self, state: int) -> array[int]:
        return self.empty_to[self.empty_at[state] : self.empty_at[state + 1]]


def _flat(lists: list[Any], target: Any) -> tuple[array[int], array[int]]:
    """Offsets and targets of per-state lists, as unsigned 32-bit arrays."""
    offsets = array("I", [0])
    targets = array("I")
    for items in lists:
        targets.extend(target(item) for item in items)
        offsets.append(len(targets))
    return offsets, targets


class _Builder:
    """hassil expressions → states of one `_Nfa`."""

    def __init__(self, intents: Intents, nfa: _Nfa) -> None:
        self.lists = intents.slot_lists
        self.rules = intents.expansion_rules
        self.language = intents.language
        self.nfa = nfa
        self._numbers: dict[tuple[int, int, int, bool], tuple[str, ...]] = {}

    def build(self, expr: Expression, at: int, depth: int = 0) -> int:
        if depth > MAX_DEPTH:
            raise AutomatonError(f"expansion rules nest deeper than {MAX_DEPTH} levels")
        if isinstance(expr, TextChunk):
            return self.nfa.text(at, spoken(expr.text))
        if isinstance(expr, ListReference):
            return self._list(expr, at, depth)
        if isinstance(expr, RuleReference):
            rule = self.rules.get(expr.rule_name)
            if rule is None:
                raise AutomatonError(f"unknown rule <{expr.rule_name}>")
            return self.build(rule.expression, at, depth + 1)
        if isinstance(expr, Alternative):
            ends = [self.build(item, at, depth) for item in expr.items]
            if expr.is_optional:
                ends.append(at)
            return self.nfa.join(ends)
        if isinstance(expr, Permutation):
            ends = []
            for first, rest in expr.iterate_permutations():
                ends.append(self.build(rest, self.build(first, at, depth), depth))
            return self.nfa.join(ends)
        if isinstance(expr, Group):
            for item in expr.items:
                at = self.build(item, at, depth)
            return at
        raise AutomatonError(f"cannot hold speech to {type(expr).__name__}")

    def _list(self, ref: ListReference, at: int, depth: int) -> int:
        if ref.is_inline_range:
            inline = ref.get_inline_range()
            if inline is None:
                raise AutomatonError(f"bad range {{{ref.list_name}}}")
            start, stop, step = inline
            return self.nfa.words(at, self.numbers(start, stop, step, False))
        slot_list = self.lists.get(ref.list_name)
        if isinstance(slot_list, RangeSlotList):
            percent = slot_list.type.value == "percentage" if slot_list.type else False
            strings = self.numbers(slot_list.start, slot_list.stop, slot_list.step, percent)
            return self.nfa.words(at, strings)
        if isinstance(slot_list, TextSlotList):
            if not slot_list.values:
                raise AutomatonError(f"list {{{ref.list_name}}} has no values")
            ends = [self.build(value.text_in, at, depth + 1) for value in slot_list.values]
            return self.nfa.join(ends)
        raise AutomatonError(f"{{{ref.list_name}}} is free text (a wildcard)")

    def numbers(self, start: int, stop: int, step: int, percent: bool) -> tuple[str, ...]:
        """Every number of a range as written: words, digits (and `N%`)."""
        key = (start, stop, step, percent)
        if key not in self._numbers:
            strings: list[str] = []
            for number in range(start, stop + 1, max(1, step)):
                strings += number_words(number, self.language)
                strings.append(str(number))
                if percent:
                    strings.append(f"{number}%")
            self._numbers[key] = tuple(dict.fromkeys(strings))
        return self._numbers[key]


def number_words(number: int, language: str = "en") -> list[str]:
    """A whole number in words, hassil's spelling (through unicode-rbnf), hyphens as spaces."""
    engine = get_rbnf_engine(language)
    result = engine.format_number(number).text_by_ruleset
    found = []
    for text in result.values():
        words = " ".join(spoken(text).replace(",", " ").split())
        if words and words not in found:
            found.append(words)
    return found


def templates(intents: Intents) -> Iterator[tuple[str, Any, str]]:
    """(intent, parsed sentence, where) of every template that may be matched without context."""
    for intent in intents.intents.values():
        for data in intent.data:
            if data.requires_context:
                continue
            meta = data.metadata or {}
            lines = list(meta.get("lines") or [])
            for i, sentence in enumerate(data.sentences):
                line = lines[i] if i < len(lines) else 0
                where = f"{meta.get('file', '?')}:{line}" if line else str(meta.get("file", "?"))
                yield intent.name, sentence, where


def compile_automaton(
    intents: Intents, max_states: int = MAX_STATES, max_template: int = MAX_TEMPLATE_STATES
) -> Automaton:
    """Every template of `intents` in one automaton; those that cannot be are in `skipped`."""
    nfa = _Nfa(max_states)
    builder = _Builder(intents, nfa)
    start, end = nfa.state(), nfa.state()
    nfa.chars[start].append((" ", start))  # a written sentence may begin with a space
    skipped: list[Skipped] = []
    for intent, sentence, where in templates(intents):
        before = nfa.base = len(nfa.chars)
        nfa.limit = min(max_states, before + max_template)
        try:
            nfa.empty[builder.build(sentence.expression, start)].append(end)
        except AutomatonError as err:
            del nfa.chars[before:], nfa.empty[before:]
            for edges in (nfa.chars, nfa.empty):
                _drop_edges(edges, before)
            skipped.append(Skipped(intent, str(sentence.text), where, str(err)))
            log.info("not held to %s (%s): %s", where, sentence.text, err)
    nfa.limit = max_states + len(FINAL_MARKS) + 1
    final = nfa.state()
    nfa.empty[end].append(final)
    for mark in FINAL_MARKS:
        nfa.chars[end].append((mark, final))
    return Automaton(nfa, start, final, tuple(skipped))


def _drop_edges(edges: list[Any], limit: int) -> None:
    """Remove edges into states past `limit` (a template that did not fit)."""
    for i, out in enumerate(edges):
        if out and any((e[1] if isinstance(e, tuple) else e) >= limit for e in out):
            edges[i] = [e for e in out if (e[1] if isinstance(e, tuple) else e) < limit]


class Automaton:
    """Walked one character at a time; each walked state is a set of the compiled states,
    numbered on first use. `DEAD` (-1) is the state no sentence continues from."""

    def __init__(self, nfa: _Nfa, start: int, final: int, skipped: tuple[Skipped, ...]) -> None:
        self._nfa = _Frozen(nfa)
        self._final = final
        self.skipped = skipped
        self.size = len(nfa.chars)
        self._reset()
        self.start = self._number(self._close({start}, spaces=True))

    def _reset(self) -> None:
        self._sets: list[frozenset[int]] = []
        self._ids: dict[frozenset[int], int] = {}
        self._moves: list[dict[str, int]] = []
        self._edges: dict[int, dict[str, list[int]]] = {}
        self._next: dict[int, tuple[str, ...]] = {}
        self._accepting: list[bool | None] = []

    def _close(self, states: Iterable[int], spaces: bool) -> frozenset[int]:
        """`states` and all reached by empty moves (and by spaces when `spaces`)."""
        seen = set(states)
        pending = list(seen)
        chars, empty = self._nfa.chars, self._nfa.empty
        while pending:
            state = pending.pop()
            nexts = list(empty(state))
            if spaces:
                nexts += [target for char, target in chars(state) if char == " "]
            for target in nexts:
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        return frozenset(seen)

    def _number(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is not None:
            return known
        self._ids[states] = len(self._sets)
        self._sets.append(states)
        self._moves.append({})
        self._accepting.append(None)
        return len(self._sets) - 1

    def step(self, state: int, char: str) -> int:
        """The state after `char` (already `spoken`), or DEAD."""
        if state == DEAD:
            return DEAD
        moves = self._moves[state]
        nxt = moves.get(char)
        if nxt is None:
            if not moves:  # first step from here: every character's targets at once
                self._spread(state)
            targets = self._edges[state].get(char)
            if char in _AFTER_SPACE:  # "it?" for "it [now]", "35%" for "{level} [%]"
                wider = self._close(self._sets[state], spaces=True)
                targets = [t for s in wider for c, t in self._nfa.chars(s) if c == char]
            nxt = self._number(self._close(targets, char == " ")) if targets else DEAD
            moves[char] = nxt
        return nxt

    def _spread(self, state: int) -> None:
        edges: dict[str, list[int]] = {}
        for source in self._sets[state]:
            for char, target in self._nfa.chars(source):
                edges.setdefault(char, []).append(target)
        self._edges[state] = edges
        self._next[state] = tuple(sorted(set(edges) | _AFTER_SPACE))
        self._moves[state][""] = DEAD  # marks the state as spread

    def next_chars(self, state: int) -> tuple[str, ...]:
        """The characters that may lead on from `state` (a few more may lead to DEAD): a walk
        over many candidates (a vocabulary's pieces) tries only these, so a state remembers
        a move for each of them, not for every character the candidates begin with."""
        if state == DEAD:
            return ()
        if not self._moves[state]:
            self._spread(state)
        return self._next[state]

    def trim(self) -> bool:
        """Forget the walked states when there are more than MAX_DFA_STATES (memory stays
        bounded); only between utterances, as their numbers change. True when it did."""
        if len(self._sets) < MAX_DFA_STATES:
            return False
        start = self._sets[self.start]
        self._reset()
        self.start = self._number(start)
        return True

    def walk(self, state: int, text: str) -> int:
        for char in spoken(text):
            state = self.step(state, char)
            if state == DEAD:
                break
        return state

    def accepting(self, state: int) -> bool:
        """True when a sentence may end here."""
        if state == DEAD:
            return False
        known = self._accepting[state]
        if known is None:
            known = self._final in self._close(self._sets[state], spaces=True)
            self._accepting[state] = known
        return known

    def accepts(self, text: str) -> bool:
        return self.accepting(self.walk(self.start, text.lstrip()))
