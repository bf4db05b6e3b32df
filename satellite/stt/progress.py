"""How far a partial transcript has come, against the skills' sentences: what the fast turn
needs to end a turn early, or to wait longer (`satellite.voice.endpoint`).

- `complete`: a sentence of the skills the recogniser accepted (its rejection says yes), that
  the free decode wrote itself (on audio cut short Moonshine's language model invents the
  rest: "set a timer for" has been held to "do you know what time it is") and that no longer
  sentence continues ("turn on the kitchen light");
  — or whose longer sentences all mean what it means ("what time is it" … "now": `harmless`,
  `satellite.stt.continuations`);
- `open`: accepted, but held to rather than written, or a longer sentence of the skills begins
  with it and would do something else ("set a timer for five minutes" … "and ten seconds";
  "cancel" … "the timer"): the normal end-of-speech rule holds;
- `unfinished`: the beginning of a sentence fits the audio better than any whole one
  (`beginning`, from `satellite.stt.prefixes`), or the free decode is one ("turn on the",
  "set a timer for"): the user is likely to go on;
- `other`: anything else (a question, noise, nothing heard).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

from satellite.stt import Transcript
from satellite.stt.automaton import DEAD, Automaton

Progress = Literal["complete", "open", "unfinished", "other"]

_WORD_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789'"
"""What a further word may begin with."""


def continues(automaton: Automaton, text: str) -> bool:
    """True when a longer sentence of the automaton begins with `text` and a space."""
    state = automaton.walk(automaton.start, text.strip() + " ")
    if state == DEAD:
        return False
    return any(automaton.step(state, char) != DEAD for char in _WORD_CHARS)


def _words(text: str) -> str:
    return " ".join(text.replace("-", " ").split())


def progress(
    automaton: Automaton,
    transcript: Transcript,
    beginning: bool = False,
    harmless: Callable[[str], bool] | None = None,
) -> Progress:
    """Where `transcript` (of a held recogniser: an accepted one's `guess` is its free
    decode) stands against the sentences of `automaton`; `beginning`: the beginning of a
    sentence fits the audio (better than the sentence accepted, if one was); `harmless`: do
    the longer sentences that begin with this one all mean what it means?"""
    if beginning:
        return "unfinished"
    if transcript.in_grammar and transcript.text:
        text = transcript.text
        if _words(transcript.guess) != text:
            return "open"
        if continues(automaton, text) and not (harmless is not None and harmless(text)):
            return "open"
        return "complete"
    heard = _words(transcript.text if transcript.out_of_grammar else transcript.guess)
    if not heard:
        return "other"
    state = automaton.walk(automaton.start, heard)
    if state != DEAD and not automaton.accepting(state):
        return "unfinished"
    if state != DEAD and continues(automaton, heard):
        return "unfinished"  # a sentence, refused (its scores), that longer ones begin with
    return "other"
