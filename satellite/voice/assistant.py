"""What the satellite does with an utterance: speech-to-text → skills → action → spoken reply.

Each step is an event, yielded as soon as it is known so that the pipeline publishes it at once
(the intent goes out before the action runs and before anything is spoken). The assistant never
touches the state machine: it yields `Speaking` before it speaks and `Spoken` after, and the
pipeline moves the state and plays the earcon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from satellite.errors import SatelliteError
from satellite.events import (
    IntentEvent,
    NotRecognizedEvent,
    ReplyEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
)
from satellite.llm.fallback import LlmFallback, LlmTiming
from satellite.llm.guard import DoubtfulIntent
from satellite.skills import ActionRunner, Match, SkillSet
from satellite.stt import Grammar, Transcript
from satellite.voice.followup import asks
from satellite.voice.speaker import Speaker, SpeechTiming
from satellite.voice.turn import Speaking, Spoken, TurnStep

if TYPE_CHECKING:
    from hassil import Intents

log = logging.getLogger(__name__)

SORRY = "Sorry, I didn't catch that."


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Recognizer(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...


@runtime_checkable
class GrammarRecognizer(Protocol):
    """A recogniser held to the skills' sentences (pocketsphinx)."""

    def transcribe(self, audio: np.ndarray) -> Transcript: ...

    def set_grammar(self, grammar: Grammar) -> None: ...


@runtime_checkable
class HeldRecognizer(Protocol):
    """A recogniser held to the skills' sentences that compiles them itself (Moonshine)."""

    def transcribe(self, audio: np.ndarray) -> Transcript: ...

    def set_intents(self, intents: Intents) -> None: ...


@dataclass
class _Turn:
    intent_source: str = "template"
    llm_answers: bool = False
    """The language model chose no intent: it answers the request itself."""
    llm: LlmTiming = field(default_factory=LlmTiming)
    stt_ms: float = 0.0
    nlu_ms: float = 0.0
    action_ms: float = 0.0
    intent_ms: float | None = None
    reason: str = ""
    """Why the text matches no intent."""

    def timings(
        self, t: float, vad_tail: float, timing: SpeechTiming | None, speech_began: float
    ) -> TimingsEvent:
        """The turn's figures; `vad_tail`: seconds from the end of speech to the turn (audio
        time); `speech_began`: seconds from the start of the turn to speech."""
        first = timing.first_audio if timing else None
        return TimingsEvent(
            t=t,
            vad_tail_ms=_ms(vad_tail),
            stt_ms=self.stt_ms,
            nlu_ms=self.nlu_ms,
            action_ms=self.action_ms,
            tts_first_audio_ms=None if first is None else _ms(first),
            intent_ms=self.intent_ms,
            first_audio_ms=None if first is None else _ms(speech_began + first),
            tts_total_ms=None if timing is None else _ms(timing.synthesis),
            llm_first_token_ms=self.llm.first_token_ms(),
            llm_total_ms=self.llm.total_ms(),
        )


@dataclass(frozen=True)
class Assistant:
    """The turn handler. Without a runner it does not act (replay); without a speaker it is mute."""

    skills: SkillSet
    stt: Recognizer
    runner: ActionRunner | None = None
    speaker: Speaker | None = None
    llm: LlmFallback | None = None
    """Handles what no template matches (`llm.enabled`); None: such speech is not understood."""

    def reload(self) -> None:
        """Re-read the skill files; recompile the speech grammar and the intent schema (SIGHUP)."""
        from satellite.stt.grammar import compile_grammar

        self.skills.reload()
        if isinstance(self.stt, GrammarRecognizer):
            self.stt.set_grammar(compile_grammar(self.skills.intents))
        elif isinstance(self.stt, HeldRecognizer):
            self.stt.set_intents(self.skills.intents)
        if self.llm is not None:
            self.llm.refresh()
        for problem in self.skills.problems:
            log.warning("skill problem: %s", problem)
        log.info("reloaded %d skills", len(self.skills.skills))

    def __call__(self, utterance: UtteranceEvent) -> Iterator[TurnStep]:
        t, start = utterance.t, time.monotonic()
        clock = Stopwatch(start)
        transcript = self.stt.transcribe(utterance.audio)
        stt_ms = clock.lap()
        heard = "" if transcript.rejected else transcript.text
        if heard:
            yield TranscriptEvent(t=t, text=heard, confidence=transcript.confidence)
        else:
            reason = transcript.reason or "the text is empty: nothing was heard"
            yield NotRecognizedEvent(t=t, text=transcript.text, reason=reason)
        turn = _Turn(stt_ms=stt_ms)
        match = self._understand(heard, turn, transcript.out_of_grammar) if heard else None
        if heard and match is None and not turn.llm_answers:
            if transcript.out_of_grammar:
                reason = transcript.reason
            else:
                reason = f"no intent matches: {turn.reason}" if turn.reason else "no intent matches"
            yield NotRecognizedEvent(t=t, text=heard, reason=reason)
        yield from self._rest(heard, match, turn, (t, utterance.t - utterance.end), clock)

    def respond(self, text: str, t: float) -> Iterator[TurnStep]:
        """A turn on text heard elsewhere (another recogniser; the `listen` command with text):
        the same matcher, action and reply as speech; `t` is the time of the turn."""
        start = time.monotonic()
        clock = Stopwatch(start)
        turn = _Turn()
        match = self._understand(text, turn)
        if match is None and not turn.llm_answers:
            yield NotRecognizedEvent(t=t, text=text[:200], reason=turn.reason)
        yield from self._rest(text, match, turn, (t, 0.0), clock)

    def _rest(
        self,
        heard: str,
        match: Match | None,
        turn: _Turn,
        when: tuple[float, float],
        clock: Stopwatch,
    ) -> Iterator[TurnStep]:
        """After understanding: the intent, the action, the reply and the turn's timings;
        `when`: the turn's time and its VAD tail (seconds)."""
        (t, vad_tail), start = when, clock.start
        turn.nlu_ms = clock.lap()
        reply, source = SORRY, "error"
        if match is not None:
            yield IntentEvent(
                t=t,
                name=match.intent,
                slots=dict(match.slots),
                text=match.text,
                skill=match.skill,
                source=turn.intent_source,
            )
            turn.intent_ms = _ms(time.monotonic() - start)
            clock.lap()
            reply, source = self._act(match)
        turn.action_ms = clock.lap()
        began = time.monotonic()
        if turn.llm_answers:
            timing = yield from self._answer(heard, t, turn)
        else:
            if reply:
                asking = source == "skill" and match is not None and match.spec.expect_answer
                yield ReplyEvent(
                    t=t,
                    text=reply,
                    source=source,
                    intent=match.intent if match else "",
                    expects_answer=asking,
                )
            timing = yield from self._say(reply, t)
        yield turn.timings(t, vad_tail, timing, began - start)

    def _understand(self, text: str, turn: _Turn, out_of_grammar: bool = False) -> Match | None:
        """The templates' match for `text`, else the language model's choice of intent (None
        with `turn.llm_answers` set when the model will answer instead); `turn.reason` says
        why there is none. Speech the recogniser found `out_of_grammar` skips the templates."""
        if out_of_grammar:
            match, unusable = None, False
        else:
            understanding = self.skills.understand(text)
            match, turn.reason = understanding.match, understanding.reason
            unusable = understanding.unusable
        if match is not None or self.llm is None or unusable:
            return match
        try:
            match = self.llm.choose(text, turn.llm)
        except DoubtfulIntent as err:
            log.info("not acting on the language model's doubtful pick: %s", err)
            return None
        except SatelliteError as err:
            log.error("the language model could not choose an intent: %s", err)
            return None
        if match is None:
            turn.llm_answers = True
        else:
            turn.intent_source = "llm"
        return match

    def _answer(
        self, text: str, t: float, turn: _Turn
    ) -> Generator[TurnStep, None, SpeechTiming | None]:
        """The language model's own reply, each sentence spoken as soon as it is written."""
        said: list[str] = []
        sentences = self._sentences(text, turn, said)
        timing: SpeechTiming | None = None
        if self.speaker is None:
            for _sentence in sentences:  # replay: the reply is reported, not spoken
                pass
        else:
            yield Speaking(t)
            timing = self.speaker.speak_sentences(sentences)
            yield Spoken(t)
        text = " ".join(said)
        yield ReplyEvent(t=t, text=text, source="llm", expects_answer=asks(text))
        return timing

    def _sentences(self, text: str, turn: _Turn, said: list[str]) -> Iterator[str]:
        try:
            for sentence in self.llm.answer(text, turn.llm) if self.llm else ():
                said.append(sentence)
                yield sentence
        except SatelliteError as err:
            log.error("the language model could not answer: %s", err)
        if not said:
            said.append(SORRY)
            yield SORRY

    def _act(self, match: Match) -> tuple[str, str]:
        if self.runner is None:
            return match.response, "skill"
        result = self.runner.run(match)
        if not result.ok:
            log.warning("action of %s failed: %s", match.intent, result.error)
        return result.speech, "skill" if result.ok else "error"

    def _say(self, text: str, t: float) -> Generator[TurnStep, None, SpeechTiming | None]:
        """Speak `text` (state `speaking` meanwhile); None when there is no speaker."""
        if self.speaker is None:
            return None
        timing = SpeechTiming(first_audio=None, synthesis=0.0)
        if text:
            yield Speaking(t)
            timing = self.speaker.speak_timed(text)
        yield Spoken(t)
        return timing


class Stopwatch:
    """Milliseconds between successive `lap()` calls."""

    def __init__(self, start: float) -> None:
        self.start = start
        self._last = start

    def lap(self) -> float:
        now = time.monotonic()
        elapsed, self._last = now - self._last, now
        return _ms(elapsed)
