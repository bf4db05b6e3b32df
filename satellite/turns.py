"""What the satellite does with an utterance: speech-to-text → skills → action → spoken reply.

Each step is an event, yielded as soon as it is known so that the pipeline publishes it at once
(the intent goes out before the action runs and before anything is spoken).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from satellite.events import (
    Event,
    IntentEvent,
    NotRecognizedEvent,
    ReplyEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
)
from satellite.skills import ActionRunner, Match, SkillSet
from satellite.speaker import Speaker, SpeechTiming
from satellite.state import State, StateMachine
from satellite.stt.sphinx import SphinxRecognizer

log = logging.getLogger(__name__)

SORRY = "Sorry, I didn't catch that."


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


@dataclass
class Assistant:
    """The turn handler. Without a runner it does not act (replay); without a speaker it is mute."""

    skills: SkillSet
    stt: SphinxRecognizer
    runner: ActionRunner | None = None
    speaker: Speaker | None = None

    def reload(self) -> None:
        """Re-read the skill files and recompile the speech grammar (SIGHUP)."""
        from satellite.stt.grammar import compile_grammar

        self.skills.reload()
        self.stt.set_grammar(compile_grammar(self.skills.intents))
        for problem in self.skills.problems:
            log.warning("skill problem: %s", problem)
        log.info("reloaded %d skills", len(self.skills.skills))

    def __call__(self, utterance: UtteranceEvent, machine: StateMachine) -> Iterator[Event]:
        t, start = utterance.t, time.monotonic()
        clock = Stopwatch(start)
        transcript = self.stt.transcribe(utterance.audio)
        stt_ms = clock.lap()
        match: Match | None = None
        if transcript.rejected or not transcript.text:
            yield NotRecognizedEvent(t=t, text=transcript.text, reason=transcript.reason)
        else:
            yield TranscriptEvent(t=t, text=transcript.text, confidence=transcript.confidence)
            match = self.skills.recognize(transcript.text)
            if match is None:
                yield NotRecognizedEvent(t=t, text=transcript.text, reason="no intent matches")
        nlu_ms = clock.lap()
        intent_ms = None
        reply, source = SORRY, "error"
        if match is not None:
            yield IntentEvent(t=t, name=match.intent, slots=dict(match.slots),
                              text=match.text, skill=match.skill)
            intent_ms = _ms(time.monotonic() - start)
            clock.lap()
            reply, source = self._act(match)
        action_ms = clock.lap()
        if reply:
            yield ReplyEvent(t=t, text=reply, source=source, intent=match.intent if match else "")
        began = time.monotonic()
        timing = yield from self._say(reply, machine, t)
        first = timing.first_audio if timing else None
        yield TimingsEvent(
            t=t,
            vad_tail_ms=_ms(utterance.t - utterance.end),
            stt_ms=stt_ms,
            nlu_ms=nlu_ms,
            action_ms=action_ms,
            tts_first_audio_ms=None if first is None else _ms(first),
            intent_ms=intent_ms,
            first_audio_ms=None if first is None else _ms(began + first - start),
            tts_total_ms=None if timing is None else _ms(timing.synthesis),
        )

    def _act(self, match: Match) -> tuple[str, str]:
        if self.runner is None:
            return match.response, "skill"
        result = self.runner.run(match)
        if not result.ok:
            log.warning("action of %s failed: %s", match.intent, result.error)
        return result.speech, "skill" if result.ok else "error"

    def _say(
        self, text: str, machine: StateMachine, t: float
    ) -> Generator[Event, None, SpeechTiming | None]:
        """Speak `text` (state `speaking` meanwhile); None when there is no speaker."""
        if self.speaker is None:
            return None
        timing = SpeechTiming(first_audio=None, synthesis=0.0)
        if text:
            event = machine.enter(State.SPEAKING, t)
            if event is not None:
                yield event
            timing = self.speaker.speak_timed(text)
        self.speaker.chime("end")
        return timing


class Stopwatch:
    """Milliseconds between successive `lap()` calls."""

    def __init__(self, start: float) -> None:
        self._last = start

    def lap(self) -> float:
        now = time.monotonic()
        elapsed, self._last = now - self._last, now
        return _ms(elapsed)
