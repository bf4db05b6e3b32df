"""Takes for where the command starts after the wake phrase, in any voice (tests/voices.py):
`[1 s] wake phrase [pause] command [1.2 s]`, with or without noise, every part's span known.

The same construction as tests/test_listening.py's espeak-ng corpus (docs/LISTENING.md), for the
Piper voice too, so that both engines' boundaries are measured the same way: `tune` takes at
Piper length scales 0.8, 1.0, 1.2; `held_out` at 0.9, 1.1, 1.3 with other commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.events import UtteranceEvent, WakeEvent
from satellite.voice.listener import Listener
from tests.speech import VOICES, Take
from tests.voices import RATE, Speaker, Voice, espeak, piper

COMMANDS: Final = (
    "turn on the kitchen light",
    "what time is it",
    "set a timer for five minutes",
    "turn off the lights in the bedroom",
)
HELD_OUT_COMMANDS: Final = (
    "cancel the timer",
    "set the volume to forty percent",
    "turn the office light off",
    "what is the date today",
)
SCALES: Final = {"tune": (0.8, 1.0, 1.2), "held_out": (0.9, 1.1, 1.3)}
TOLERANCE: Final = 0.15


@dataclass(frozen=True)
class Case:
    voice: Voice
    wake: str
    pause: float
    noise: float | None
    command: str

    def take(self, speaker: Speaker, seed: int) -> Take:
        take = Take().silence(1.0)
        say(take, speaker, self.wake, self.voice)
        take.silence(self.pause)
        say(take, speaker, self.command, self.voice)
        take.silence(1.2)
        return take.with_noise(self.noise, seed) if self.noise is not None else take


def say(take: Take, speaker: Speaker, text: str, voice: Voice) -> Take:
    start = len(take.audio) / RATE
    take.audio = np.concatenate([take.audio, speaker.speak(text, voice)])
    take.spans.append((text, start, len(take.audio) / RATE))
    return take


def piper_cases(wake: str, split: str) -> list[Case]:
    """Three length scales, with and without a 0.6 s pause, clean and at 25 dB SNR, each with
    every command of the split (48 takes)."""
    commands = COMMANDS if split == "tune" else HELD_OUT_COMMANDS
    return [
        Case(piper(scale), wake, pause, noise, command)
        for scale in SCALES[split]
        for pause in (0.0, 0.6)
        for noise in (None, 25.0)
        for command in commands
    ]


def espeak_cases(wake: str) -> list[Case]:
    """tests/test_listening.py's corpus: five voices, 140 and 160 wpm, pause, noise."""
    cases = []
    for i, name in enumerate(VOICES):
        for j, speed in enumerate((140, 160)):
            for pause in (0.0, 0.6):
                for noise in (None, 25.0):
                    command = COMMANDS[(i + j + int(pause > 0) + int(noise is not None)) % 4]
                    cases.append(Case(espeak(name, speed), wake, pause, noise, command))
    return cases


@dataclass(frozen=True)
class Boundary:
    """Where one take's utterance fell against the command's true span."""

    case: Case
    woke: bool
    start_error: float | None
    """Utterance start minus command start (s); None: no single utterance."""
    end_error: float | None

    @property
    def on_time(self) -> bool:
        return (
            self.start_error is not None
            and self.end_error is not None
            and max(abs(self.start_error), abs(self.end_error)) <= TOLERANCE
        )


def measure(listener: Listener, speaker: Speaker, cases: list[Case]) -> list[Boundary]:
    """Each case from a fresh stream, in odd-sized chunks: did it wake once, on the wake
    phrase, and where did its one utterance fall."""
    out = []
    for n, case in enumerate(cases):
        take = case.take(speaker, seed=n)
        listener.reset()
        events = []
        for i in range(0, len(take.audio), 4000):
            events += listener.feed(take.audio[i : i + 4000])
        events += listener.finish()
        wakes = [e for e in events if isinstance(e, WakeEvent)]
        utterances = [e for e in events if isinstance(e, UtteranceEvent)]
        wake_start, wake_end = take.span(case.wake)
        woke = len(wakes) == 1 and wake_start < wakes[0].t < wake_end + 1.0
        if woke and len(utterances) == 1:
            start, end = take.span(case.command)
            utterance = utterances[0]
            assert len(utterance.audio) == round((utterance.end - utterance.start) * RATE)
            out.append(Boundary(case, True, utterance.start - start, utterance.end - end))
        else:
            out.append(Boundary(case, woke, None, None))
    return out
