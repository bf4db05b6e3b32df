"""Template pieces that touch without a space (`light[s]`, `{name}'s`), written out as the
whole words they make, within MAX_EXPANSION wordings."""

from __future__ import annotations

import itertools
import math

from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    TextChunk,
)
from hassil.intents import RangeSlotList, TextSlotList

from satellite.stt.grammar_text import (
    MAX_DEPTH,
    MAX_EXPANSION,
    MAX_PERMUTATION,
    Scope,
    capped,
    check_range,
    number_words,
)
from satellite.stt.grammar_tree import Skip


class GluedPieces:
    """The compiler's part that writes touching pieces out as words."""

    _language: str
    _empty: set[str]
    """Lists with no values met in the current sentence."""

    def _glued(self, cluster: list[str | Expression], scope: Scope) -> list[str]:
        texts = [""]
        for piece in cluster:
            options = [piece] if isinstance(piece, str) else self._strings(piece, scope)
            texts = [a + b for a in texts for b in capped(texts, options)]
        return texts

    def _strings(self, expr: Expression, scope: Scope, depth: int = 0) -> list[str]:
        """Every text an expression can produce (spoken numbers for ranges)."""
        if depth > MAX_DEPTH:
            raise Skip("expansion rules refer to themselves")
        if isinstance(expr, TextChunk):
            return [expr.text]
        if isinstance(expr, Alternative):
            found: list[str] = []
            for item in expr.items:
                found += capped(found, self._strings(item, scope, depth + 1), add=True)
            return found
        if isinstance(expr, Permutation):
            return self._permuted(expr, scope, depth)
        if isinstance(expr, Group):
            return self._glued(list(expr.items), scope)
        if isinstance(expr, RuleReference):
            rule = scope.rules.get(expr.rule_name)
            if rule is None:
                raise Skip(f"no expansion rule named <{expr.rule_name}>")
            return self._strings(rule.expression, scope, depth + 1)
        if isinstance(expr, ListReference):
            return self._list_strings(expr, scope, depth)
        raise Skip(f"unsupported template piece {type(expr).__name__}")

    def _permuted(self, expr: Permutation, scope: Scope, depth: int) -> list[str]:
        if len(expr.items) > MAX_PERMUTATION:
            raise Skip(f"a permutation of more than {MAX_PERMUTATION} items")
        parts = [self._strings(item, scope, depth + 1) for item in expr.items]
        orders = math.factorial(len(parts))
        if orders * math.prod(len(p) for p in parts) > MAX_EXPANSION:
            raise Skip(f"touching pieces expand to more than {MAX_EXPANSION} wordings")
        orderings = itertools.permutations(parts)
        return [" ".join(t) for order in orderings for t in itertools.product(*order)]

    def _list_strings(self, ref: ListReference, scope: Scope, depth: int) -> list[str]:
        inline = ref.get_inline_range()
        slot_list = RangeSlotList(None, *inline) if inline else scope.lists.get(ref.list_name)
        if isinstance(slot_list, RangeSlotList):
            check_range(slot_list)
            language = slot_list.words_language or self._language
            return [" ".join(w) for n in slot_list.get_numbers() for w in number_words(n, language)]
        if isinstance(slot_list, TextSlotList):
            if not slot_list.values:
                self._empty.add(ref.list_name)
            found: list[str] = []
            for value in slot_list.values:
                found += capped(found, self._strings(value.text_in, scope, depth + 1), add=True)
            return found
        raise Skip(f"{{{ref.list_name}}} cannot be expanded into words")
