"""Whether the longer sentences that begin with a command would do what it does: "what time is
it" goes on only as "… now" or "… right now", "set the volume to ten" only as "… percent",
"never mind" as "… that". Such a command is as complete as one no sentence continues, and the
fast turn may end it early (`satellite.stt.progress`): if the user goes on, the action is the
same. "set a timer for five minutes" (… "and ten seconds"), "volume thirty" (… "eight"),
"cancel the timer" (… "for ten minutes") go on with other slots: not harmless.

The continuations are walked on the skills' character automaton, at most `MORE_WORDS` further
words and `MOST` sentences; each is matched by hassil, as the skills match text. Anything
beyond those bounds (a number, a name) counts as a change.
"""

from __future__ import annotations

from typing import Any, Final

from hassil import Intents, recognize_best

from satellite.stt.automaton import DEAD, Automaton

MORE_WORDS: Final = 2
MOST: Final = 12
"""Sentences looked at; more continuations than this: not harmless."""
LONGEST_WORD: Final = 16
STEPS: Final = 4000
"""Automaton states visited at most; a wider search: not harmless."""
_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789'-"


def meaning(text: str, intents: Intents) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The intent and slot values hassil gives `text` (None: no match)."""
    result: Any = recognize_best(text, intents, language=intents.language, best_slot_name="name")
    if result is None:
        return None
    slots = sorted((e.name, str(e.value)) for e in result.entities_list)
    return str(result.intent.name), tuple(slots)


def continuations(automaton: Automaton, text: str) -> list[str] | None:
    """The sentences of at most `MORE_WORDS` words more that begin with `text`, or None when
    there are more than `MOST` of them or longer ones."""
    state = automaton.walk(automaton.start, text.strip() + " ")
    if state == DEAD:
        return []
    found: list[str] = []
    stack: list[tuple[int, str, int]] = [(state, "", 1)]
    visited = 0
    while stack:
        at, word, words = stack.pop()
        visited += 1
        if visited > STEPS:
            return None
        if word and automaton.accepting(at):
            found.append(f"{text.strip()} {word}")
            if len(found) > MOST:
                return None
        for char in (" ", *_CHARS):
            step = automaton.step(at, char)
            if step == DEAD:
                continue
            if char == " ":
                if not word or word.endswith(" "):
                    continue
                if words >= MORE_WORDS:
                    return None  # a longer sentence still: its words could be anything
                stack.append((step, word + " ", words + 1))
            elif len(word) < LONGEST_WORD * MORE_WORDS:
                stack.append((step, word + char, words))
            else:
                return None
    return found


def harmless(automaton: Automaton, intents: Intents, text: str) -> bool:
    """True when every longer sentence that begins with `text` means what `text` means."""
    own = meaning(text, intents)
    if own is None:
        return False
    longer = continuations(automaton, text)
    if longer is None:
        return False
    return all(meaning(sentence, intents) == own for sentence in longer)
