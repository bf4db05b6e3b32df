"""The walk over every intent's templates that builds the grammar's tree and rules.

Lists, number ranges and expansion rules become named rules the first time they are used and
are shared after; a sentence is taken while the written-out grammar stays within
MAX_GRAMMAR_WORDS. What cannot be compiled is left out with its reason (`skipped`) and, when a
word has no pronunciation, reported in `missing`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping

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
from hassil.intents import Intents, RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.parse_expression import parse_sentence
from hassil.parser import ParseError

from satellite.stt.grammar_glue import GluedPieces
from satellite.stt.grammar_text import (
    MAX_DEPTH,
    MAX_GRAMMAR_WORDS,
    MAX_PERMUTATION,
    Scope,
    check_range,
    clusters,
    names,
    normalize,
    number_words,
    rule_name,
    source,
    text_of,
)
from satellite.stt.grammar_tree import (
    EMPTY,
    MissingWord,
    Node,
    Ref,
    Skip,
    SkippedSentence,
    Words,
    alternatives,
    sequence,
)
from satellite.stt.lexicon import Lexicon

_LOGGER = logging.getLogger("satellite.stt.grammar")


class TemplateCompiler(GluedPieces):
    """Walks the templates of every intent, building rules as lists and rules are used."""

    def __init__(self, intents: Intents, lexicon: Lexicon) -> None:
        self._intents = intents
        self._lexicon = lexicon
        self._language = intents.language or "en"
        self.rules: dict[str, Node] = {}
        self._rule_names: dict[tuple[str, str, str], str | None] = {}
        self._rule_empty: dict[tuple[str, str, str], frozenset[str]] = {}
        """Lists with no values met while building each rule (told again when it is reused)."""
        self.missing: list[MissingWord] = []
        self.skipped: list[SkippedSentence] = []
        self.derived: dict[str, str] = {}
        self.compiled = 0
        self.words = 0
        """Written-out size of the sentences taken so far (see MAX_GRAMMAR_WORDS)."""
        self._sizes: dict[str, int] = {}
        self._source = ""
        self._intent = ""
        self._where = ""
        self._depth = 0
        self._empty: set[str] = set()
        """Lists with no values met in the current sentence."""

    def compile(self) -> list[Node]:
        sentences: list[Node] = []
        for intent in self._intents.intents.values():
            for index, data in enumerate(intent.data):
                if (data.metadata or {}).get("lite_grammar") is False:
                    continue  # the skill keeps these wordings for text and the full profile
                scope = self._scope(intent.name, index, data.slot_lists, data.expansion_rules)
                for number, text in enumerate(data.sentence_texts):
                    self._source = source(data.metadata, number)
                    node = self._sentence(intent.name, text, scope)
                    if node is not None and node not in sentences and self._fits(node):
                        sentences.append(node)
        return sentences

    def _fits(self, node: Node) -> bool:
        """Take a sentence only while the written-out grammar stays within MAX_GRAMMAR_WORDS."""
        size = self._size(node)
        if size <= MAX_GRAMMAR_WORDS - self.words:
            self.words += size
            return True
        held = f"; the sentences before it hold {self.words:,}" if self.words else ""
        self._skip(
            f"it is {size:,} words with its rules and lists written out at every use, as "
            f"pocketsphinx does; the grammar takes at most {MAX_GRAMMAR_WORDS:,}{held}"
        )
        self.compiled -= 1
        return False

    def _size(self, node: Node) -> int:
        if isinstance(node, Words):
            return len(node.words)
        if isinstance(node, Ref):
            if node.name not in self._sizes:
                self._sizes[node.name] = self._size(self.rules[node.name])
            return self._sizes[node.name]
        return sum(self._size(item) for item in node.items)

    def _scope(
        self,
        intent: str,
        index: int,
        lists: Mapping[str, SlotList],
        rules: Mapping[str, Sentence],
    ) -> Scope:
        if not lists and not rules:
            return Scope("", self._intents.slot_lists, self._intents.expansion_rules)
        return Scope(
            f"{intent}_{index}",
            {**self._intents.slot_lists, **lists},
            {**self._intents.expansion_rules, **rules},
        )

    def _sentence(self, intent: str, text: str, scope: Scope) -> Node | None:
        self._intent, self._where = intent, text
        self._empty.clear()
        try:
            template = parse_sentence(text, keep_text=True)
        except ParseError as err:
            self._skip(f"cannot parse template: {err}")
            return None
        try:
            node = self._expr(template.expression, scope)
            if node is None and self._empty:
                self._quietly_skip(f"no values in {names(self._empty)}")
                return None
            if node is None:
                raise Skip("every wording has a word missing from the dictionary")
            if node == EMPTY:
                raise Skip("nothing to say")
        except Skip as err:
            self._skip(str(err))
            return None
        self.compiled += 1
        return node

    def _quietly_skip(self, reason: str) -> None:
        """Left out for now (a list is empty until devices are configured): not a problem."""
        _LOGGER.debug("%s: left out %r: %s", self._intent, self._where, reason)
        self.skipped.append(SkippedSentence(self._intent, self._where, reason, self._source))

    def _skip(self, reason: str) -> None:
        where = f"{self._source}: " if self._source else ""
        _LOGGER.warning("%s%s: left out %r: %s", where, self._intent, self._where, reason)
        self.skipped.append(SkippedSentence(self._intent, self._where, reason, self._source))

    # structural compilation

    def _expr(self, expr: Expression, scope: Scope) -> Node | None:
        if isinstance(expr, TextChunk):
            return self._words(expr.text)
        if isinstance(expr, Alternative):
            parts = [self._expr(item, scope) for item in expr.items]
            return alternatives(parts, optional=expr.is_optional)
        if isinstance(expr, Permutation):
            return self._permutation(expr, scope)
        if isinstance(expr, Group):
            return self._sequence(expr.items, scope)
        if isinstance(expr, ListReference):
            name = self._list_rule(expr, scope)
            return None if name is None else Ref(name)
        if isinstance(expr, RuleReference):
            name = self._expansion_rule(expr.rule_name, scope)
            return None if name is None else Ref(name)
        raise Skip(f"unsupported template piece {type(expr).__name__}")

    def _sequence(self, items: Iterable[Expression], scope: Scope) -> Node | None:
        parts: list[Node | None] = []
        for cluster in clusters(items):
            if all(isinstance(piece, str) for piece in cluster):
                parts.append(self._words("".join(map(str, cluster))))
            elif len(cluster) == 1:
                parts.append(self._expr(cluster[0], scope))  # type: ignore[arg-type]
            else:
                parts.append(alternatives(self._words(t) for t in self._glued(cluster, scope)))
        return sequence(parts)

    def _permutation(self, expr: Permutation, scope: Scope) -> Node | None:
        if len(expr.items) > MAX_PERMUTATION:
            raise Skip(f"a permutation of more than {MAX_PERMUTATION} items")
        orders = itertools.permutations(expr.items)
        return alternatives(self._sequence(order, scope) for order in orders)

    def _words(self, text: str) -> Node | None:
        words = normalize(text, self._language)
        for word in words:
            if word in self._lexicon or word in self.derived:
                continue
            derived = self._lexicon.derive(word)
            if derived is not None:
                _LOGGER.info("derived pronunciation %r for %r", derived, word)
                self.derived[word] = derived
                continue
            self._missing(word)
            return None
        return Words(tuple(words))

    def _missing(self, word: str) -> None:
        entry = MissingWord(word, self._intent, self._where)
        if entry not in self.missing:
            _LOGGER.warning(
                "%s: %r is not in the pronunciation dictionary; wordings with it are left out "
                "of %r",
                self._intent,
                word,
                self._where,
            )
            self.missing.append(entry)

    # named rules

    def _list_rule(self, ref: ListReference, scope: Scope) -> str | None:
        inline = ref.get_inline_range()
        if inline is not None:
            start, stop, step = inline
            return self._range_rule(RangeSlotList(None, start, stop, step))
        slot_list = scope.lists.get(ref.list_name)
        if slot_list is None:
            raise Skip(f"no list named {{{ref.list_name}}}")
        if isinstance(slot_list, RangeSlotList):
            return self._range_rule(slot_list)
        if isinstance(slot_list, WildcardSlotList):
            raise Skip(f"{{{ref.list_name}}} is a wildcard, which a closed grammar cannot hear")
        if isinstance(slot_list, TextSlotList) and not slot_list.values:
            self._empty.add(ref.list_name)
            return None
        key = ("list", scope.key if ref.list_name in self._local(scope) else "", ref.list_name)
        return self._named(key, lambda: self._text_list(ref.list_name, slot_list, scope))

    def _local(self, scope: Scope) -> set[str]:
        if not scope.key:
            return set()
        glob = self._intents.slot_lists
        return {n for n, v in scope.lists.items() if glob.get(n) is not v}

    def _text_list(self, name: str, slot_list: SlotList, scope: Scope) -> Node | None:
        assert isinstance(slot_list, TextSlotList)
        where, parts = self._where, []
        for value in slot_list.values:
            self._where = f'list {{{name}}} value "{text_of(value.text_in)}"'
            parts.append(self._expr(value.text_in, scope))
        self._where = where
        return alternatives(parts)

    def _range_rule(self, slot_list: RangeSlotList) -> str | None:
        if not slot_list.words:
            raise Skip("a number range with `words: false` cannot be spoken")
        check_range(slot_list)
        language = slot_list.words_language or self._language
        key = ("range", language, f"{slot_list.start}_{slot_list.stop}_{slot_list.step}")
        numbers = list(slot_list.get_numbers())
        return self._named(
            key,
            lambda: alternatives(
                self._words(" ".join(w)) for n in numbers for w in number_words(n, language)
            ),
        )

    def _expansion_rule(self, name: str, scope: Scope) -> str | None:
        rule = scope.rules.get(name)
        if rule is None:
            raise Skip(f"no expansion rule named <{name}>")
        if self._depth >= MAX_DEPTH:
            raise Skip(f"expansion rule <{name}> refers to itself")
        key = ("rule", scope.key, name)
        self._depth += 1
        try:
            return self._named(key, lambda: self._expr(rule.expression, scope))
        finally:
            self._depth -= 1

    def _named(self, key: tuple[str, str, str], build: Callable[[], Node | None]) -> str | None:
        if key in self._rule_names:
            self._empty |= self._rule_empty.get(key, frozenset())
            return self._rule_names[key]
        name = rule_name(key, self.rules)
        outer, self._empty = self._empty, set()
        try:
            body = build()
        finally:
            self._rule_empty[key] = frozenset(self._empty)
            self._empty = outer | self._empty
        self._rule_names[key] = name if body is not None else None
        if body is not None:
            self.rules[name] = body
        return self._rule_names[key]
