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

The work is shared by `grammar_tree` (the tree and the result), `grammar_text` (words and
limits), `lexicon` (the dictionary), `grammar_compiler` and `grammar_glue` (the walk).
"""

from __future__ import annotations

from pathlib import Path

from hassil.intents import Intents

from satellite.stt.grammar_compiler import TemplateCompiler
from satellite.stt.grammar_text import (
    MAX_EXPANSION,
    MAX_GRAMMAR_WORDS,
    MAX_PERMUTATION,
    MAX_RANGE_NUMBERS,
    normalize,
    number_words,
)
from satellite.stt.grammar_tree import (
    Grammar,
    GrammarError,
    MissingWord,
    SkippedSentence,
    alternatives,
    reachable,
    render,
    words_of,
)
from satellite.stt.lexicon import Lexicon, default_dictionary

__all__ = [
    "MAX_EXPANSION",
    "MAX_GRAMMAR_WORDS",
    "MAX_PERMUTATION",
    "MAX_RANGE_NUMBERS",
    "Grammar",
    "GrammarError",
    "Lexicon",
    "MissingWord",
    "SkippedSentence",
    "compile_grammar",
    "default_dictionary",
    "normalize",
    "number_words",
]


def compile_grammar(intents: Intents, dictionary: Path | None = None) -> Grammar:
    """Compile every intent's templates into one grammar; raise GrammarError if none is left."""
    lexicon = Lexicon.load(dictionary or default_dictionary())
    compiler = TemplateCompiler(intents, lexicon)
    sentences = compiler.compile()
    if not sentences:
        raise GrammarError(
            "no sentence template can be spoken with the pronunciation dictionary"
            + "".join(f"; {s.intent}: {s.sentence!r}: {s.reason}" for s in compiler.skipped[:5])
        )
    command = alternatives(sentences)
    assert command is not None
    vocabulary = words_of(command, compiler.rules)
    used = reachable(command, compiler.rules)
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
