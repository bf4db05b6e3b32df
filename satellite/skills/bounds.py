"""Limits that keep a skill's templates cheap to match, sample and compile, checked on load.

hassil never expands a template into its sentences: it matches the text against it and keeps
every partial match alive. That stays fast for millions of wordings as long as the text decides
between them ("(one|two|...) (one|two|...)" is 100 wordings and one live match). It explodes
when many ways through a template read the same words: thirty "[la]" in a row hold C(30, 15)
live matches for "la" said fifteen times, and one `recognize` runs for minutes. So the check
is the *ambiguity* of a template: the most ways through it that read one word sequence.

Only a template with more wordings than the limit can be that ambiguous (each way through it
is one wording), so the exact count, a walk over an automaton of the template, runs only for
those few. Lists and number ranges count as one word each: their values are told apart by
the text. The count is an estimate at the level of words (glued pieces such as `light[s]` are
taken as separate words).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Final

from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    TextChunk,
)

MAX_AMBIGUITY: Final = 1000
"""Most ways through one template that may read the same words."""
MAX_STATES: Final = 5000
"""Largest automaton (template with its rules written out) that is checked word by word."""
MAX_RANGE_NUMBERS: Final = 1001
"""Most numbers in a range list (0 to 1000): each is spelled out for matching and speech."""
_MAX_DEPTH: Final = 32


class BoundsError(ValueError):
    """A template or list beyond the limits; the message says which and by how much."""


def range_size(start: int, stop: int, step: int = 1, fractions: str | None = None) -> int:
    """How many numbers a range holds (halves double it, tenths make it ten times)."""
    whole = 0 if stop < start else (stop - start) // max(step, 1) + 1
    return whole * {None: 1, "halves": 2, "tenths": 10}.get(fractions, 1)


def check_range(start: int, stop: int, step: int = 1, fractions: str | None = None) -> None:
    size = range_size(start, stop, step, fractions)
    if size > MAX_RANGE_NUMBERS:
        raise BoundsError(
            f"a range of {size:,} numbers; at most {MAX_RANGE_NUMBERS:,} (each is spelled out "
            "to be matched and heard): use a coarser step or a smaller range"
        )


def wordings(expression: Expression, rules: Mapping[str, Sentence]) -> int:
    """How many word sequences a template produces, lists and ranges counted once."""

    @functools.cache
    def rule(name: str, depth: int) -> int:
        body = rules.get(name)
        return 1 if body is None or depth > _MAX_DEPTH else count(body.expression, depth + 1)

    def count(expr: Expression, depth: int) -> int:
        if isinstance(expr, RuleReference):
            return rule(expr.rule_name, depth)
        if isinstance(expr, Alternative):
            return sum(count(item, depth) for item in expr.items)
        if isinstance(expr, Permutation):
            return math.factorial(len(expr.items)) * math.prod(count(i, depth) for i in expr.items)
        if isinstance(expr, Group):
            return math.prod(count(item, depth) for item in expr.items)
        return 1

    return count(expression, 0)


def check_template(sentence: Sentence, rules: Mapping[str, Sentence]) -> None:
    """Raise BoundsError when hassil could hold too many live matches for one text."""
    if wordings(sentence.expression, rules) <= MAX_AMBIGUITY:
        return
    automaton = _Automaton()
    start = automaton.state()
    automaton.build(sentence.expression, start, rules, 0)
    worst = automaton.ambiguity(start)
    if worst > MAX_AMBIGUITY:
        raise BoundsError(
            f"{worst:,} or more ways through this template read the same words; at most "
            f"{MAX_AMBIGUITY}: matching it could take minutes. Optional or alternative parts "
            "that can say the same words in a row are the usual cause: merge them"
        )


class _Automaton:
    """Words (and `{list}` placeholders) on the edges; `None` is an empty move. Built once per
    checked template, then walked."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[str | None, int]]] = []

    def state(self) -> int:
        if len(self.edges) >= MAX_STATES:
            raise BoundsError(
                f"the template, its rules written out, is larger than {MAX_STATES:,} words "
                "and alternatives: split it into several sentences or use fewer nested rules"
            )
        self.edges.append([])
        return len(self.edges) - 1

    def build(self, expr: Expression, at: int, rules: Mapping[str, Sentence], depth: int) -> int:
        """Add `expr` starting at state `at`; return the state where it ends."""
        if depth > _MAX_DEPTH:
            raise BoundsError(f"expansion rules nest deeper than {_MAX_DEPTH} levels")
        if isinstance(expr, TextChunk):
            for word in expr.text.casefold().split():
                nxt = self.state()
                self.edges[at].append((word, nxt))
                at = nxt
            return at
        if isinstance(expr, ListReference):
            nxt = self.state()
            self.edges[at].append((f"{{{expr.list_name}}}", nxt))
            return nxt
        if isinstance(expr, RuleReference):
            body = rules.get(expr.rule_name)
            return at if body is None else self.build(body.expression, at, rules, depth + 1)
        if isinstance(expr, Alternative):
            return self._join([self.build(item, at, rules, depth) for item in expr.items])
        if isinstance(expr, Permutation):
            return self._permutation(expr, at, rules, depth)
        assert isinstance(expr, Group), type(expr).__name__
        for item in expr.items:
            at = self.build(item, at, rules, depth)
        return at

    def _permutation(
        self, expr: Permutation, at: int, rules: Mapping[str, Sentence], depth: int
    ) -> int:
        ends = []
        for first, rest in expr.iterate_permutations():
            ends.append(self.build(rest, self.build(first, at, rules, depth), rules, depth))
        return self._join(ends)

    def _join(self, ends: list[int]) -> int:
        """A new state after all of `ends` (newer than each, so edges point forward)."""
        end = self.state()
        for state in ends:
            self.edges[state].append((None, end))
        return end

    @functools.cached_property
    def _closures(self) -> list[dict[int, int]]:
        """For each state, the states reached by empty moves and in how many ways."""
        closures: list[dict[int, int] | None] = [None] * len(self.edges)
        for state in reversed(range(len(self.edges))):  # edges only point to newer states
            reach = {state: 1}
            for symbol, target in self.edges[state]:
                if symbol is None:
                    for far, ways in (closures[target] or {target: 1}).items():
                        reach[far] = reach.get(far, 0) + ways
            closures[state] = reach
        return [c or {} for c in closures]

    def ambiguity(self, start: int) -> int:
        """The most ways that read one word sequence (all sequences tried, word by word)."""
        first = dict(self._closures[start])
        pending, best, worst = [first], {frozenset(first): first}, sum(first.values())
        while pending:
            ways = pending.pop()
            for moved in self._steps(ways).values():
                reached = self._close(moved)
                worst = max(worst, sum(reached.values()))
                if worst > MAX_AMBIGUITY:
                    return worst
                key = frozenset(reached)
                known = best.get(key)
                if known is None or any(n > known.get(s, 0) for s, n in reached.items()):
                    best[key] = {s: max(n, (known or {}).get(s, 0)) for s, n in reached.items()}
                    pending.append(best[key])
                    if len(best) > MAX_STATES:
                        raise BoundsError("the template is too intricate to check; split it")
        return worst

    def _steps(self, ways: Mapping[int, int]) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        for state, n in ways.items():
            for symbol, target in self.edges[state]:
                if symbol is not None:
                    into = out.setdefault(symbol, {})
                    into[target] = into.get(target, 0) + n
        return out

    def _close(self, moved: Mapping[int, int]) -> dict[int, int]:
        reached: dict[int, int] = {}
        for state, n in moved.items():
            for far, ways in self._closures[state].items():
                reached[far] = reached.get(far, 0) + n * ways
        return reached
