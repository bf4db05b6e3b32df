"""Compile hassil sentence templates into a JSGF grammar that pocketsphinx can decode.

Every template becomes one alternative of the public rule `<command>`:
- text is lower-cased, punctuation dropped, `-`/`_` split words, `%` is read "percent" and
  digits are spelled out;
- `(a|b)` and `[x]` stay alternatives and optionals; a permutation `(a;b)` becomes the
  alternatives of its orderings;
- a list `{area}` becomes a rule of its spoken (`in`) values, a number range a rule of its
  numbers spelled out in words (digits cannot be spoken); a wildcard cannot be closed, so its
  sentences are left out;
- an expansion rule `<name>` becomes a JSGF rule;
- where template pieces touch without a space (`light[s]`, `{name}'s`), the touching pieces are
  expanded into whole words.

A block of sentences whose metadata says `lite_grammar: False` (the skill file's key) is left
out: the skill keeps those wordings for text and the full profile. The grammar is kept within
MAX_GRAMMAR_WORDS words with every rule written out where it is used (how pocketsphinx builds
its search graph); a sentence past that, a range of more than MAX_RANGE_NUMBERS numbers and
touching pieces of more than MAX_EXPANSION wordings are left out with a warning that names the
skill file and line when the metadata has them.

Words missing from the pronunciation dictionary are reported: a possessive (`kitchen's`) gets a
pronunciation derived from its stem, any other wording that contains such a word is left out,
with a warning naming the word and the sentence. A sentence that uses a list with no values
(no devices configured yet) is left out quietly. Only text that hassil can match again is
produced (numbers in hassil's own spelling), so a transcript goes straight to the intent matcher.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
from hassil.expression import Sequence as TemplateSequence
from hassil.intents import (
    Intents,
    RangeFractionType,
    RangeSlotList,
    SlotList,
    TextSlotList,
    WildcardSlotList,
)
from hassil.numbers import get_rbnf_engine
from hassil.parse_expression import parse_sentence
from hassil.parser import ParseError

from satellite.errors import SatelliteError

_LOGGER = logging.getLogger(__name__)

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
_MAX_DEPTH: Final = 24
"""Deepest nesting of expansion rules (guards against rules that refer to themselves)."""
_SYMBOLS: Final = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_NOT_WORD = re.compile(r"[^\w'\s]+")
_SIBILANTS: Final = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_VOICELESS: Final = frozenset({"P", "T", "K", "F", "TH", "HH"})


class GrammarError(SatelliteError):
    """The sentence templates cannot be turned into a grammar (none is speakable, bad input)."""


class _Skip(Exception):
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


# --- pronunciation dictionary ----------------------------------------------------------------


class Lexicon:
    """Words of a pocketsphinx dictionary with their first pronunciation."""

    def __init__(self, phones: Mapping[str, str]) -> None:
        self._phones = dict(phones)

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def load(path: Path) -> Lexicon:
        """Read a CMU-style dictionary (`word PH ON ES`, variants as `word(2)`)."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise GrammarError(f"cannot read pronunciation dictionary {path}: {err}") from err
        phones: dict[str, str] = {}
        for line in text.splitlines():
            word, _, pron = line.strip().partition(" ")
            word = word.split("(", 1)[0].lower()
            if word and pron and word not in phones:
                phones[word] = pron.strip()
        if not phones:
            raise GrammarError(f"pronunciation dictionary {path} has no entries")
        return Lexicon(phones)

    def __contains__(self, word: str) -> bool:
        return word in self._phones

    def phones(self, word: str) -> str | None:
        return self._phones.get(word)

    def derive(self, word: str) -> str | None:
        """A pronunciation for a possessive of a known word (`kitchen's`), else None."""
        if not word.endswith("'s"):
            return None
        stem = self._phones.get(word[:-2])
        if stem is None:
            return None
        last = stem.split()[-1]
        ending = "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
        return f"{stem} {ending}"


def default_dictionary() -> Path:
    """The US-English dictionary bundled with pocketsphinx."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"


# --- grammar tree ----------------------------------------------------------------------------


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


# --- text ------------------------------------------------------------------------------------


def _spaced(text: str) -> str:
    """Symbols read as words and punctuation (bar apostrophes) as spaces: they split words."""
    for symbol, spoken in _SYMBOLS.items():
        text = text.replace(symbol, spoken)
    return _NOT_WORD.sub(" ", text.replace("-", " ").replace("_", " "))


def normalize(text: str, language: str = "en") -> list[str]:
    """Spoken words of template text: lower case, no punctuation, digits spelled out."""
    words: list[str] = []
    for token in _spaced(text.casefold()).split():
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
        raise _Skip(f"no number words for language {language!r}") from err
    result = engine.format_number(number).text_by_ruleset
    texts = [result["spellout-cardinal"]] if "spellout-cardinal" in result else result.values()
    spoken: list[tuple[str, ...]] = []
    for text in texts:
        words = tuple(_NOT_WORD.sub(" ", text.casefold().replace("-", " ")).split())
        if words and words not in spoken:
            spoken.append(words)
    return spoken


# --- compiler --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Lists and expansion rules visible to one block of sentences."""

    key: str
    lists: Mapping[str, SlotList]
    rules: Mapping[str, Sentence]


def _flatten(items: Iterable[Expression]) -> Iterator[Expression]:
    """Items of nested plain sequences, in order (so their spaces become visible)."""
    for item in items:
        if type(item) in (Group, TemplateSequence):
            yield from _flatten(item.items)  # type: ignore[attr-defined]
        else:
            yield item


def _clusters(items: Iterable[Expression]) -> list[list[str | Expression]]:
    """Split a sequence at whitespace into runs of pieces that touch (glue into words)."""
    clusters: list[list[str | Expression]] = [[]]
    for item in _flatten(items):
        if not isinstance(item, TextChunk):
            clusters[-1].append(item)
            continue
        for piece in re.split(r"(\s+)", _spaced(item.text)):
            if not piece:
                continue
            if piece.isspace():
                clusters.append([])
            else:
                clusters[-1].append(piece)
    return [c for c in clusters if c]


class _Compiler:
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
                    self._source = _source(data.metadata, number)
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
    ) -> _Scope:
        if not lists and not rules:
            return _Scope("", self._intents.slot_lists, self._intents.expansion_rules)
        return _Scope(
            f"{intent}_{index}",
            {**self._intents.slot_lists, **lists},
            {**self._intents.expansion_rules, **rules},
        )

    def _sentence(self, intent: str, text: str, scope: _Scope) -> Node | None:
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
                self._quietly_skip(f"no values in {_names(self._empty)}")
                return None
            if node is None:
                raise _Skip("every wording has a word missing from the dictionary")
            if node == EMPTY:
                raise _Skip("nothing to say")
        except _Skip as err:
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

    def _expr(self, expr: Expression, scope: _Scope) -> Node | None:
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
        raise _Skip(f"unsupported template piece {type(expr).__name__}")

    def _sequence(self, items: Iterable[Expression], scope: _Scope) -> Node | None:
        parts: list[Node | None] = []
        for cluster in _clusters(items):
            if all(isinstance(piece, str) for piece in cluster):
                parts.append(self._words("".join(map(str, cluster))))
            elif len(cluster) == 1:
                parts.append(self._expr(cluster[0], scope))  # type: ignore[arg-type]
            else:
                parts.append(alternatives(self._words(t) for t in self._glued(cluster, scope)))
        return sequence(parts)

    def _permutation(self, expr: Permutation, scope: _Scope) -> Node | None:
        if len(expr.items) > MAX_PERMUTATION:
            raise _Skip(f"a permutation of more than {MAX_PERMUTATION} items")
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

    def _list_rule(self, ref: ListReference, scope: _Scope) -> str | None:
        inline = ref.get_inline_range()
        if inline is not None:
            start, stop, step = inline
            return self._range_rule(RangeSlotList(None, start, stop, step))
        slot_list = scope.lists.get(ref.list_name)
        if slot_list is None:
            raise _Skip(f"no list named {{{ref.list_name}}}")
        if isinstance(slot_list, RangeSlotList):
            return self._range_rule(slot_list)
        if isinstance(slot_list, WildcardSlotList):
            raise _Skip(f"{{{ref.list_name}}} is a wildcard, which a closed grammar cannot hear")
        if isinstance(slot_list, TextSlotList) and not slot_list.values:
            self._empty.add(ref.list_name)
            return None
        key = ("list", scope.key if ref.list_name in self._local(scope) else "", ref.list_name)
        return self._named(key, lambda: self._text_list(ref.list_name, slot_list, scope))

    def _local(self, scope: _Scope) -> set[str]:
        if not scope.key:
            return set()
        glob = self._intents.slot_lists
        return {n for n, v in scope.lists.items() if glob.get(n) is not v}

    def _text_list(self, name: str, slot_list: SlotList, scope: _Scope) -> Node | None:
        assert isinstance(slot_list, TextSlotList)
        where, parts = self._where, []
        for value in slot_list.values:
            self._where = f'list {{{name}}} value "{_text(value.text_in)}"'
            parts.append(self._expr(value.text_in, scope))
        self._where = where
        return alternatives(parts)

    def _range_rule(self, slot_list: RangeSlotList) -> str | None:
        if not slot_list.words:
            raise _Skip("a number range with `words: false` cannot be spoken")
        _check_range(slot_list)
        language = slot_list.words_language or self._language
        key = ("range", language, f"{slot_list.start}_{slot_list.stop}_{slot_list.step}")
        numbers = list(slot_list.get_numbers())
        return self._named(
            key,
            lambda: alternatives(
                self._words(" ".join(w)) for n in numbers for w in number_words(n, language)
            ),
        )

    def _expansion_rule(self, name: str, scope: _Scope) -> str | None:
        rule = scope.rules.get(name)
        if rule is None:
            raise _Skip(f"no expansion rule named <{name}>")
        if self._depth >= _MAX_DEPTH:
            raise _Skip(f"expansion rule <{name}> refers to itself")
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
        name = _rule_name(key, self.rules)
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

    # glued pieces

    def _glued(self, cluster: list[str | Expression], scope: _Scope) -> list[str]:
        texts = [""]
        for piece in cluster:
            options = [piece] if isinstance(piece, str) else self._strings(piece, scope)
            texts = [a + b for a in texts for b in _capped(texts, options)]
        return texts

    def _strings(self, expr: Expression, scope: _Scope, depth: int = 0) -> list[str]:
        """Every text an expression can produce (spoken numbers for ranges)."""
        if depth > _MAX_DEPTH:
            raise _Skip("expansion rules refer to themselves")
        if isinstance(expr, TextChunk):
            return [expr.text]
        if isinstance(expr, Alternative):
            found: list[str] = []
            for item in expr.items:
                found += _capped(found, self._strings(item, scope, depth + 1), add=True)
            return found
        if isinstance(expr, Permutation):
            if len(expr.items) > MAX_PERMUTATION:
                raise _Skip(f"a permutation of more than {MAX_PERMUTATION} items")
            parts = [self._strings(item, scope, depth + 1) for item in expr.items]
            orders = math.factorial(len(parts))
            if orders * math.prod(len(p) for p in parts) > MAX_EXPANSION:
                raise _Skip(f"touching pieces expand to more than {MAX_EXPANSION} wordings")
            return [
                " ".join(t)
                for order in itertools.permutations(parts)
                for t in itertools.product(*order)
            ]
        if isinstance(expr, Group):
            return self._glued(list(expr.items), scope)
        if isinstance(expr, RuleReference):
            rule = scope.rules.get(expr.rule_name)
            if rule is None:
                raise _Skip(f"no expansion rule named <{expr.rule_name}>")
            return self._strings(rule.expression, scope, depth + 1)
        if isinstance(expr, ListReference):
            return self._list_strings(expr, scope, depth)
        raise _Skip(f"unsupported template piece {type(expr).__name__}")

    def _list_strings(self, ref: ListReference, scope: _Scope, depth: int) -> list[str]:
        inline = ref.get_inline_range()
        slot_list = RangeSlotList(None, *inline) if inline else scope.lists.get(ref.list_name)
        if isinstance(slot_list, RangeSlotList):
            _check_range(slot_list)
            language = slot_list.words_language or self._language
            return [" ".join(w) for n in slot_list.get_numbers() for w in number_words(n, language)]
        if isinstance(slot_list, TextSlotList):
            if not slot_list.values:
                self._empty.add(ref.list_name)
            found: list[str] = []
            for value in slot_list.values:
                found += _capped(found, self._strings(value.text_in, scope, depth + 1), add=True)
            return found
        raise _Skip(f"{{{ref.list_name}}} cannot be expanded into words")


def _capped(texts: list[str], more: list[str], add: bool = False) -> list[str]:
    """`more`, when adding it to (or gluing it after) `texts` stays within MAX_EXPANSION."""
    size = len(texts) + len(more) if add else len(texts) * len(more)
    if size > MAX_EXPANSION:
        raise _Skip(f"touching pieces expand to more than {MAX_EXPANSION} wordings")
    return more


def _range_count(slot_list: RangeSlotList) -> int:
    whole = len(range(slot_list.start, slot_list.stop + 1, slot_list.step))
    return whole * (1 + len(RangeFractionType.get_fractions(slot_list.fraction_type)))


def _check_range(slot_list: RangeSlotList) -> None:
    count = _range_count(slot_list)
    if count > MAX_RANGE_NUMBERS:
        raise _Skip(f"a range of {count:,} numbers; at most {MAX_RANGE_NUMBERS:,} are spelled out")


def _source(metadata: Mapping[str, object] | None, number: int) -> str:
    """`file:line` of sentence `number` of a block, from the skills' metadata, else ''."""
    meta = metadata or {}
    lines = meta.get("lines")
    line = lines[number] if isinstance(lines, list) and number < len(lines) else 0
    path = meta.get("file")
    return "" if not path else f"{path}:{line}" if line else str(path)


def _names(lists: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(lists))


def _text(expr: Expression) -> str:
    return expr.text if isinstance(expr, TextChunk) else type(expr).__name__


def _rule_name(key: tuple[str, str, str], taken: Mapping[str, Node]) -> str:
    kind, scope, name = key
    base = re.sub(r"\W+", "_", f"{kind}_{scope}_{name}" if scope else f"{kind}_{name}")
    candidate, n = base, 2
    while candidate in taken or candidate == "command":
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def compile_grammar(intents: Intents, dictionary: Path | None = None) -> Grammar:
    """Compile every intent's templates into one grammar; raise GrammarError if none is left."""
    lexicon = Lexicon.load(dictionary or default_dictionary())
    compiler = _Compiler(intents, lexicon)
    sentences = compiler.compile()
    if not sentences:
        raise GrammarError(
            "no sentence template can be spoken with the pronunciation dictionary"
            + "".join(f"; {s.intent}: {s.sentence!r}: {s.reason}" for s in compiler.skipped[:5])
        )
    command = alternatives(sentences)
    assert command is not None
    vocabulary = words_of(command, compiler.rules)
    used = _reachable(command, compiler.rules)
    rules = [("command", render(command))]
    rules += [(name, render(body)) for name, body in compiler.rules.items() if name in used]
    return Grammar(
        rules=tuple(rules),
        vocabulary=frozenset(vocabulary),
        missing_words=tuple(compiler.missing),
        skipped=tuple(compiler.skipped),
        pronunciations={w: p for w, p in compiler.derived.items() if w in vocabulary},
        sentence_count=compiler.compiled,
    )


def _reachable(node: Node, rules: Mapping[str, Node]) -> set[str]:
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
