"""Moonshine held to the skills' sentences, with the free decode as the competitor.

For each utterance:

1. the encoder runs once; the **free decode** (greedy, every token's log-probability and the
   end token's) says what Moonshine hears with no grammar;
2. a **beam search held to the skills' automaton** (`satellite.stt.beam`) finds the likeliest
   sentence the skills can say (a wider beam when the first finds none);
3. the sentence is mapped to its intent and slots by hassil, as the skills match text; for
   each slot value, its rivals (the same sentence with another value) are scored in one
   teacher-forced decoder call;
4. `satellite.stt.rejection.verdict` accepts it or not on all the scores together.

Three outcomes, as a `Transcript`: a sentence of the skills (`text`, accepted); speech that is
not one (`out_of_grammar`: the free transcript goes on, to the language model when there is
one, never to the templates); nothing heard (`rejected`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from hassil import Intents, recognize_best

from satellite.models.onnx import release_memory
from satellite.stt import Transcript
from satellite.stt.automaton import compile_automaton
from satellite.stt.beam import widening_search
from satellite.stt.continuations import harmless
from satellite.stt.coverage import Word, coverage, free_words
from satellite.stt.margins import contests
from satellite.stt.moonshine import RATE, MoonshineRecognizer, as_float, normalize
from satellite.stt.moonshine_steps import Scored, Steps
from satellite.stt.prefixes import PrefixGrammar, beginning_fits
from satellite.stt.progress import Progress, progress
from satellite.stt.rejection import Evidence, HoldConfig, SlotMargin, verdict
from satellite.stt.slot_rivals import Rivals
from satellite.stt.tokens import PieceTrie, TokenGrammar, piece_texts

log = logging.getLogger(__name__)

SURE_EMPTY: Final = math.log(0.95)
"""A free decode that ends at once this surely heard nothing; below it, the likeliest text
that is not empty is decoded and held to the skills like any other."""


@dataclass(frozen=True)
class Heard:
    """Everything one utterance gave (for the transcript, logs and calibration)."""

    free: str
    """The free decode as written."""
    sentence: str = ""
    """The best sentence of the skills as written; empty when none fits."""
    evidence: Evidence | None = None
    reason: str = ""
    """Why the sentence was not accepted (empty when it was, or when nothing was heard)."""
    nothing: str = ""
    """Why nothing was heard at all (empty when something was)."""
    ms: dict[str, float] = field(default_factory=dict)
    free_words: tuple[Word, ...] = ()
    """The free decode's words with their scores."""

    @property
    def accepted(self) -> bool:
        return bool(self.sentence) and not self.reason and not self.nothing


def matchable(sentence: str) -> str:
    """A written sentence as the templates match it: lower case, no punctuation, hyphens and
    `%` as the words around them."""
    return " ".join(normalize(sentence).replace("-", " ").split())


def padded(samples: np.ndarray, seconds: float) -> np.ndarray:
    """Float audio with `seconds` of silence before and after it."""
    if seconds <= 0:
        return samples
    silence = np.zeros(round(seconds * RATE), dtype=np.float32)
    return np.concatenate([silence, samples, silence])


class HeldMoonshine:
    """`transcribe(audio) -> Transcript`; `set_intents` after the skills are reloaded."""

    def __init__(
        self,
        recognizer: MoonshineRecognizer,
        intents: Intents,
        config: HoldConfig | None = None,
        like: HeldMoonshine | None = None,
    ) -> None:
        """`like`: a held recogniser on the same Moonshine whose decoder steps and pieces'
        trie this one shares (a second set of sentences costs only its automaton)."""
        self.recognizer = recognizer
        self.config = config or HoldConfig()
        self.steps: Steps
        self._trie: PieceTrie
        if like is not None:
            self.steps, self._trie = like.steps, like._trie
        else:
            self.steps = Steps(recognizer)
            self.steps.check()
            self._trie = PieceTrie(piece_texts(self.steps.tokenizer.vocabulary()))
        self.set_intents(intents)

    def set_intents(self, intents: Intents) -> None:
        """Compile the skills' sentences (a reload); bounded in time and size."""
        started = time.perf_counter()
        automaton = compile_automaton(intents)
        grammar = TokenGrammar(automaton, self._trie)
        with self.recognizer.lock:
            self.intents, self.automaton, self.grammar = intents, automaton, grammar
            self.rivals = Rivals(intents, automaton)
            self.beginnings = PrefixGrammar(grammar)
            self._harmless: dict[str, bool] = {}
        log.info(
            "skills' sentences compiled for Moonshine: %d states, %d templates left out, %.2f s",
            automaton.size,
            len(automaton.skipped),
            time.perf_counter() - started,
        )

    def transcribe(self, audio: np.ndarray) -> Transcript:
        return self._transcript(self.hear(audio))

    def _transcript(self, heard: Heard) -> Transcript:
        free = normalize(heard.free)
        if heard.nothing:
            return Transcript("", 0.0, True, heard.nothing, free)
        confidence = 0.0
        if heard.evidence is not None:
            confidence = math.exp(min(0.0, heard.evidence.lr))
        if heard.accepted:
            return Transcript(matchable(heard.sentence), confidence, False, "", free)
        guess = matchable(heard.sentence)
        return Transcript(free, confidence, False, heard.reason, guess, out_of_grammar=True)

    def hear(self, audio: np.ndarray) -> Heard:
        samples = as_float(audio)
        seconds = len(samples) / RATE
        if len(samples) == 0:
            return Heard("", nothing="no audio")
        if seconds < self.recognizer.config.min_audio:
            return Heard("", nothing=f"too short ({seconds:.2f} s)")
        with self.recognizer.lock:
            self.steps.interrupt.clear()  # a partial decode interrupted for this one
            heard = self._hear(padded(samples, self.config.pad))
            release_memory()  # the utterance's tensors
            return heard

    def interrupt(self) -> None:
        """Stop a partial decode under way (`Interrupted`), for a whole utterance's."""
        self.steps.interrupt.set()

    def partial(
        self, audio: np.ndarray, heard: Callable[[Transcript], None] | None = None
    ) -> tuple[Transcript, Progress]:
        """A partial utterance's transcript, and how far it has come (`satellite.stt.progress`;
        unless it is a complete command, whether the beginning of one fits it better).
        `heard` is told the transcript as soon as it is known (before the beginnings are
        searched). `Interrupted` when `interrupt` is called while it runs."""
        samples = as_float(audio)
        if len(samples) == 0 or len(samples) / RATE < self.recognizer.config.min_audio:
            return self.transcribe(audio), "other"
        with self.recognizer.lock:
            self.steps.interrupt.clear()  # meant for a decode that has ended
            ms: dict[str, float] = {}
            hidden, free, limit = self._free(samples, ms)
            held = self._held(hidden, free, limit, ms)
            transcript = self._transcript(held)
            if heard is not None:
                heard(transcript)
            verdict = progress(self.automaton, transcript, harmless=self.harmless)
            if verdict == "complete":
                return transcript, verdict
            sentence, shortest = None, 0
            if held.accepted and held.evidence:
                sentence = held.evidence.total
                shortest = len(self.steps.encode_text(held.sentence)) + 1
            longest = min(limit, 2 * len(free.tokens) + 4)
            beginning = beginning_fits(
                self.steps, hidden, self.beginnings, free, self.config, longest, sentence, shortest
            )
            return transcript, progress(self.automaton, transcript, beginning, self.harmless)

    def harmless(self, text: str) -> bool:
        """Do the longer sentences that begin with `text` all mean what it means? (Once per
        sentence and set of skills.)"""
        found = self._harmless.get(text)
        if found is None:
            found = self._harmless[text] = harmless(self.automaton, self.intents, text)
        return found

    def _hear(self, samples: np.ndarray) -> Heard:
        ms: dict[str, float] = {}
        hidden, free, limit = self._free(samples, ms)
        return self._held(hidden, free, limit, ms)

    def _free(self, samples: np.ndarray, ms: dict[str, float]) -> tuple[np.ndarray, Scored, int]:
        """The encoder's output, the free decode and the length cap."""
        clock = time.perf_counter()
        hidden = self.steps.encode(samples)
        limit = self.recognizer.max_tokens(len(samples))
        free = self.steps.greedy(hidden, limit)
        ms["free"] = _lap(clock)
        if not free.tokens and free.logprobs[0] < SURE_EMPTY:
            # Moonshine often ends at once on speech cut close: what would it say if it must?
            free = self.steps.greedy(hidden, limit, say=True)
        return hidden, free, limit

    def _held(self, hidden: np.ndarray, free: Scored, limit: int, ms: dict[str, float]) -> Heard:
        """The best sentence of the skills for the free decode, judged."""
        clock = time.perf_counter() - ms["free"] / 1000
        written = self.steps.decode(free.tokens).strip()
        if not free.ended:
            return Heard(written, nothing=f"no end of sentence within {limit} tokens", ms=ms)
        if not normalize(written):
            return Heard(written, nothing="no words recognised", ms=ms)
        best: Scored | None = free
        if not self.automaton.accepts(written):  # else the free decode is the best sentence
            widths = (self.config.beam, self.config.wide_beam)
            longest = min(limit, 2 * len(free.tokens) + 4)  # one far longer was not said
            best = widening_search(self.steps, hidden, self.grammar, widths, longest)
        ms["beam"] = _lap(clock) - ms["free"]
        if best is None:
            return Heard(written, reason="no sentence of the skills fits", ms=ms)
        sentence = self.steps.decode(best.tokens).strip()
        words = tuple(free_words(self.steps, free, self.config.confident))
        heard = self._judge(hidden, free, best, written, sentence, words)
        ms["judge"] = _lap(clock) - ms["free"] - ms["beam"]
        return Heard(written, sentence, heard[0], heard[1], ms=ms, free_words=words)

    def _judge(
        self,
        hidden: np.ndarray,
        free: Scored,
        best: Scored,
        written: str,
        sentence: str,
        words: tuple[Word, ...],
    ) -> tuple[Evidence | None, str]:
        text = matchable(sentence)
        result = recognize_best(
            text, self.intents, language=self.intents.language, best_slot_name="name"
        )
        if result is None:
            return None, "the skills do not match the sentence"
        tokens = max(1, len(free.tokens))
        evidence = Evidence(
            lr=(best.total - free.total) / tokens,
            worst=best.worst,
            end=best.end,
            total=best.total,
            coverage=coverage(list(words), text),
            length=len(text.split()) / max(1, len(words)),
        )
        reason = verdict(evidence, self.config)
        if reason:  # no need to score the rivals of a sentence already refused
            return evidence, reason
        margins = self._margins(hidden, sentence, result.entities_list, written)
        evidence = Evidence(**{**evidence.__dict__, "margins": margins})
        return evidence, verdict(evidence, self.config)

    def _margins(
        self, hidden: np.ndarray, sentence: str, entities: Any, written: str
    ) -> tuple[SlotMargin, ...]:
        """Each listed slot value against its best rival (`satellite.stt.margins`)."""
        places = []
        for entity in entities:
            place = self.rivals.place(sentence, entity.name, str(entity.text), entity.value)
            if place is not None:
                places.append((place, self.rivals.rivals(sentence, place, entity.value)))
        places += self.rivals.unit_places(sentence)
        if not places:
            return ()
        needed = max(self.config.number_margin, self.config.name_margin)
        needed = max(needed, self.config.unheard_margin)
        heard = f" {matchable(written)} "
        return tuple(
            SlotMargin(
                c.place.slot,
                c.place.written,
                c.rival,
                c.margin,
                c.place.numeric,
                f" {matchable(c.place.written)} " in heard,
            )
            for c in contests(self.steps, hidden, sentence, places, needed)
        )


def _lap(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
