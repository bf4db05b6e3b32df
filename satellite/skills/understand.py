"""Text → the hassil match of one intent, the same for speech and for typed or relayed text.

In order, the first that gives a match:

1. `exact`: hassil on the text as it is;
2. `normalised`: hassil on its words (`textnorm.words`: case, punctuation, digits as words,
   "%" as "percent", "what's" as "what is");
3. `fuzzy`: the one template the words are a slip away from (`fuzzy.best_candidate`: typos,
   missing function words, fillers such as "please"), its repaired sentence matched by hassil,
   kept only if every slot it fills comes from words that are in the text.

Empty text, text of more than MAX_CHARS characters and text with no words at all (control
characters, undecodable bytes) match nothing, each with its reason; text of more than MAX_WORDS
words is only matched exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from hassil import Intents, recognize_best

from satellite.skills.fuzzy import best_candidate
from satellite.skills.textgraph import Template, build_templates
from satellite.skills.textnorm import words

_LOGGER = logging.getLogger(__name__)

MAX_CHARS: Final = 2000
"""Longest text matched, in characters (a spoken command is rarely a twentieth of it)."""
MAX_WORDS: Final = 40
"""Longest text matched fuzzily, in words."""


@dataclass(frozen=True)
class Found:
    """hassil's result for the text, how it was found, or why there is none."""

    result: Any = None
    """hassil's `RecognizeResult`; None when nothing matches."""
    how: str = ""
    """`exact`, `normalised` or `fuzzy`."""
    sentence: str = ""
    """The sentence hassil matched (the repaired one when fuzzy)."""
    reason: str = ""
    """Why nothing matches."""
    unusable: bool = False
    """The text itself is no command (empty, too long, no words): nothing should guess."""


class TextMatcher:
    """Matches text against one set of intents; the fuzzy trees are built once, here (a few
    hundred milliseconds for the built-in skills), not at the first close match."""

    def __init__(self, intents: Intents, language: str) -> None:
        self._intents = intents
        self._language = language
        self._trees = build_templates(intents)

    def find(self, text: str) -> Found:
        problem = _too_long(text)
        if problem:
            return Found(reason=problem, unusable=True)
        spoken = words(text, self._language)
        if not spoken:
            reason = "it has no words" if text.strip() else "the text is empty"
            return Found(reason=reason, unusable=True)
        result = self._hassil(text)
        if result is not None:
            return Found(result, "exact", text)
        normalised = " ".join(spoken)
        result = self._hassil(normalised)
        if result is not None:
            return Found(result, "normalised", normalised)
        if len(spoken) > MAX_WORDS:
            reason = f"no exact match, and {len(spoken)} words are too many for a close one"
            return Found(reason=f"{reason} (at most {MAX_WORDS})")
        return self._fuzzy(spoken)

    def _hassil(self, text: str) -> Any:
        return recognize_best(text, self._intents, language=self._language, best_slot_name="name")

    def _fuzzy(self, spoken: tuple[str, ...]) -> Found:
        templates, vocabulary = self.trees()
        fuzzy = best_candidate(spoken, templates, vocabulary)
        if fuzzy.candidate is None:
            return Found(reason=fuzzy.reason)
        sentence = fuzzy.candidate.sentence
        result = self._hassil(sentence)
        if result is None:
            return Found(reason=f'its closest sentence "{sentence}" does not match its skill')
        invented = _invented(result, spoken, self._language)
        if invented:
            return Found(reason=f'"{sentence}" would need {invented}, which is not in the text')
        _LOGGER.debug("fuzzy: %r understood as %r", " ".join(spoken), sentence)
        return Found(result, "fuzzy", sentence)

    def trees(self) -> tuple[tuple[Template, ...], frozenset[str]]:
        """The templates as the fuzzy matcher reads them, and every word in them."""
        return self._trees


def _too_long(text: str) -> str:
    if len(text) > MAX_CHARS:
        return f"too long: {len(text):,} characters (at most {MAX_CHARS})"
    return ""


def _invented(result: Any, spoken: tuple[str, ...], language: str) -> str:
    """The first slot value that hassil filled from words the text does not have, else ''."""
    for name, entity in result.entities.items():
        if getattr(entity, "is_wildcard", False):
            return f"a free value for {{{name}}}"
        if not entity.text:
            continue  # a fixed slot of the template (`slots:`), not read from the text
        value = words(str(entity.text), language)
        if not _contains(spoken, value):
            return f'{name} "{entity.text}"'
    return ""


def _contains(text: tuple[str, ...], part: tuple[str, ...]) -> bool:
    size = len(part)
    return size > 0 and any(text[i : i + size] == part for i in range(len(text) - size + 1))
