"""Text as the fuzzy matcher compares it: words, the same for what was typed and the templates.

`words()` lower-cases, reads `%` as "percent" and `&` as "and", splits at punctuation, hyphens
and underscores (keeping apostrophes inside words), spells digits out in hassil's own words
("25" → "twenty five"), opens the everyday contractions ("what's" → "what is") and writes out
the abbreviations of units of time ("5 min" → "5 minutes"). Control
characters, unpaired surrogates (undecodable bytes) and the like are spaces.

The rest says which edits the matcher may make: `FILLERS` (said around a command, dropped at a
small cost), `FUNCTION_WORDS` (template words a typist may leave out) and `typo()` (one
slip of the keyboard in a longer word).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from hassil.numbers import get_rbnf_engine

MAX_DIGITS: Final = 7
"""Longer runs of digits are left as they are (no list value is such a number)."""
_SYMBOLS: Final = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NOT_WORD = re.compile(r"[^\w']+")
_CONTRACTIONS: Final = {
    "what's": ("what", "is"),
    "whats": ("what", "is"),
    "it's": ("it", "is"),
    "that's": ("that", "is"),
    "there's": ("there", "is"),
    "where's": ("where", "is"),
    "how's": ("how", "is"),
    "who's": ("who", "is"),
    "i'm": ("i", "am"),
    "you're": ("you", "are"),
    "we're": ("we", "are"),
    "they're": ("they", "are"),
    "let's": ("let", "us"),
    "i'd": ("i", "would"),
    "i'll": ("i", "will"),
    "don't": ("do", "not"),
    "doesn't": ("does", "not"),
    "didn't": ("did", "not"),
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "won't": ("will", "not"),
    "isn't": ("is", "not"),
    "aren't": ("are", "not"),
    "shouldn't": ("should", "not"),
    "min": ("minutes",),
    "mins": ("minutes",),
    "sec": ("seconds",),
    "secs": ("seconds",),
    "hr": ("hours",),
    "hrs": ("hours",),
}
FILLERS: Final = frozenset(
    {
        ("please",),
        ("pls",),
        ("plz",),
        ("kindly",),
        ("um",),
        ("uh",),
        ("er",),
        ("erm",),
        ("hmm",),
        ("oh",),
        ("ok",),
        ("okay",),
        ("hey",),
        ("so",),
        ("just",),
        ("now",),
        ("could", "you"),
        ("can", "you"),
        ("would", "you"),
        ("will", "you"),
        ("for", "me"),
        ("thank", "you"),
        ("thanks",),
    }
)
"""Words (and pairs) said around a command that change nothing in it; never a negation."""
ARTICLES: Final = frozenset({("the",), ("a",), ("an",)})
"""Fillers inside a command only: "the ten minute timer" is about a timer, not an order."""
FUNCTION_WORDS: Final = frozenset({"the", "a", "an", "my", "our", "for", "to", "in", "of", "at"})
"""Template words that may be missing from the text (never `on`, `off`, `up`, `down`, `all`)."""


def words(text: str, language: str = "en") -> tuple[str, ...]:
    """The words of `text` as the matcher compares them (see the module's docstring)."""
    found: list[str] = []
    for token in _tokens(text):
        if token.isdigit() and len(token) <= MAX_DIGITS:
            found.extend(number_words(int(token), language))
        elif token in _CONTRACTIONS:
            found.extend(_CONTRACTIONS[token])
        else:
            found.append(token)
    return tuple(found)


def _tokens(text: str) -> list[str]:
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    cleaned = cleaned.casefold().translate(_APOSTROPHES)
    for symbol, spoken in _SYMBOLS.items():
        cleaned = cleaned.replace(symbol, spoken)
    tokens = (t.strip("'") for t in _NOT_WORD.sub(" ", cleaned.replace("_", " ")).split())
    return [t for t in tokens if t]


@functools.lru_cache(maxsize=2048)
def number_words(number: int, language: str = "en") -> tuple[str, ...]:
    """How hassil spells a whole number ("twenty five"); the digits when it cannot."""
    try:
        spelled = get_rbnf_engine(language).format_number(number).text_by_ruleset
    except ValueError:
        return (str(number),)
    text = spelled.get("spellout-cardinal") or next(iter(spelled.values()), str(number))
    return tuple(_NOT_WORD.sub(" ", text.casefold().replace("-", " ")).split())


@functools.lru_cache(maxsize=65536)
def typo(typed: str, word: str) -> bool:
    """`typed` is `word` with one slip (a letter wrong, missing, extra, or two swapped; two
    slips in a word of eight letters or more); words under four letters only swap."""
    if typed == word or not typed.isalpha():
        return False
    if len(word) < 4:
        return len(typed) == len(word) and _swapped(typed, word)
    allowed = 2 if len(word) >= 8 else 1
    return abs(len(typed) - len(word)) <= allowed and _distance(typed, word, allowed) <= allowed


def _swapped(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]


def _distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts one), capped at
    `bound + 1`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > bound:
            return bound + 1
        previous2, previous = previous, row
    return previous[-1]
