"""Reply hygiene: what of a model's streamed reply is spoken, and whether it is remembered.

A small or base model does not always know when to stop: it runs on into the next exchange
("Request: …"), or loops ("course user what is the longest course user what is the longest …")
until the token budget ends. `ReplyCleaner` sits between the tokens and the speaker:

- the reply ends at the format's stop text (a base model's line end, the next `Request:`);
- it is cut where it starts repeating itself (a run of `LOOP_WORDS` words seen before);
- it ends after `MAX_SENTENCES` sentences;
- the last few words are held back until they are known not to begin a repeat, so a loop is
  never spoken; and a reply that looped or holds no words is not kept in the history, so one
  turn's garbage cannot become the next turn's example.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

LOOP_WORDS: Final = 4
"""A run of this many words seen earlier in the reply is a loop: the reply is cut before it."""
MAX_SENTENCES: Final = 3
"""Spoken replies are short: the reply ends after this many sentences."""
_WORD: Final = re.compile(r"\S+")
_SENTENCE_END: Final = re.compile(r"[.!?](?=\s)")
_LETTERS: Final = re.compile(r"[^\W\d_]{2,}")


def _norm(word: str) -> str:
    return word.strip(".,;:!?\"'()").lower()


class ReplyCleaner:
    """Feed it the reply's text pieces; it returns what may be passed on now."""

    def __init__(self, stops: Sequence[str] = (), max_sentences: int = MAX_SENTENCES) -> None:
        self.stops = tuple(s for s in stops if s)
        self.max_sentences = max_sentences
        self.text = ""
        self.sent = 0
        """Characters of `text` passed on so far."""
        self.reason = ""
        """Why the reply ended early: `stop`, `loop`, `sentences` (empty: it did not)."""

    @property
    def done(self) -> bool:
        return bool(self.reason)

    def feed(self, piece: str) -> str:
        """The text that is safe to pass on after `piece` (check `done` afterwards)."""
        if self.done:
            return ""
        self.text += piece
        self._cut_at_stop()
        self._cut_at_loop()
        self._cut_after_sentences()
        end = len(self.text) if self.done else self._safe_end()
        return self._release(end)

    def finish(self) -> str:
        """The rest, when the stream ends (trailing white space dropped)."""
        self.text = self.text.rstrip()
        return self._release(len(self.text))

    @property
    def said(self) -> str:
        """What was passed on (all of the reply once it has finished)."""
        return self.text[: self.sent].strip()

    def worth_keeping(self) -> bool:
        """May the exchange join the history: not a loop, and some words."""
        return self.reason != "loop" and bool(_LETTERS.search(self.said))

    def _release(self, end: int) -> str:
        if end <= self.sent:
            return ""
        out, self.sent = self.text[self.sent : end], end
        return out

    def _cut_at_stop(self) -> None:
        found = [i for i in (self.text.find(s) for s in self.stops) if i >= 0]
        if found:
            self.text, self.reason = self.text[: min(found)].rstrip(), "stop"

    def _cut_at_loop(self) -> None:
        words = [(m.start(), _norm(m.group())) for m in _WORD.finditer(self.text)]
        if self.done or len(words) < LOOP_WORDS + 1:
            return
        seen: set[tuple[str, ...]] = set()
        for i in range(len(words) - LOOP_WORDS + 1):
            run = tuple(w for _, w in words[i : i + LOOP_WORDS])
            if run in seen:
                self.text, self.reason = self.text[: words[i][0]].rstrip(), "loop"
                return
            seen.add(run)

    def _cut_after_sentences(self) -> None:
        if self.done:
            return
        ends = list(_SENTENCE_END.finditer(self.text + " "))
        if len(ends) >= self.max_sentences:
            self.text, self.reason = self.text[: ends[self.max_sentences - 1].end()], "sentences"

    def _safe_end(self) -> int:
        """Up to the last `LOOP_WORDS - 1` words (and any unfinished stop text) held back."""
        starts = [m.start() for m in _WORD.finditer(self.text)]
        end = starts[-(LOOP_WORDS - 1)] if len(starts) >= LOOP_WORDS - 1 else 0
        for stop in self.stops:
            for size in range(len(stop) - 1, 0, -1):
                if self.text.endswith(stop[:size]):
                    end = min(end, len(self.text) - size)
                    break
        return max(end, self.sent)
