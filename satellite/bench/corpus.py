"""The audio the bench feeds the satellite, spoken by espeak-ng.

A turn is silence, the wake phrase, a short pause, a command and a second of silence; voices,
speeds and pauses vary from turn to turn. With a language model (the full profile) every other
turn is a question no template matches, which the model answers. Idle audio is speech without
the wake word, with pauses: what a satellite hears most of the day.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from satellite.tts.espeak import EspeakTts

RATE: Final = 16000
WAKE_PHRASE: Final = "hey jarvis"
VOICES: Final = ("en-us", "en-us+m3", "en-us+f3", "en+m7")
SPEEDS: Final = (150, 165)
PAUSES: Final = (0.5, 0.2)
"""Seconds between the wake phrase and the command."""
COMMANDS: Final = (
    ("turn on the kitchen light", "HassTurnOn"),
    ("what time is it", "HassGetCurrentTime"),
    ("set a timer for five minutes", "HassStartTimer"),
    ("turn off the lights in the bedroom", "HassTurnOff"),
    ("what is the date today", "HassGetCurrentDate"),
    ("set the volume to forty percent", "HassSetVolume"),
    ("cancel the timer", "HassCancelTimer"),
    ("turn the office light off", "HassTurnOff"),
)
QUESTIONS: Final = (
    "tell me a story about the sea",
    "why is the sky blue",
    "what should i cook for dinner tonight",
    "how far away is the moon",
)
"""Requests for the language model: no template matches them."""
LLM_REPLY: Final = "(llm)"
"""The `intent` a question turn expects: the language model's own reply."""
IDLE_SENTENCES: Final = (
    "the quick brown fox jumps over the lazy dog near the river bank",
    "we went to the market on saturday and bought apples and bread",
    "the weather has been unusually warm for this time of the year",
    "please remember to water the plants before you leave the house",
    "my brother is travelling to the coast with his friends next week",
)
_LOUD: Final = 200
"""Samples above this magnitude count as speech when trimming."""


@dataclass(frozen=True)
class Turn:
    """One spoken turn, with where its parts are (seconds from the start of `audio`)."""

    command: str
    intent: str
    voice: str
    audio: np.ndarray = field(repr=False, compare=False)
    wake_end: float
    """End of the wake phrase."""
    speech_end: float
    """End of the command: the reference for the end-to-end figures."""


def trim(audio: np.ndarray) -> np.ndarray:
    """`audio` without its leading and trailing silence."""
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > _LOUD)
    return audio[loud[0] : loud[-1] + 1] if len(loud) else audio[:0]


class Voice:
    """espeak-ng voices, loaded once each."""

    def __init__(self) -> None:
        self._engines: dict[tuple[str, int], EspeakTts] = {}

    def say(self, text: str, voice: str, speed: int) -> np.ndarray:
        key = (voice, speed)
        if key not in self._engines:
            self._engines[key] = EspeakTts(voice=voice, rate=speed)
        engine = self._engines[key]
        return trim(np.concatenate(list(engine.synthesize(text))))


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.int16)


def pick(index: int, questions: bool) -> tuple[str, str]:
    """The request of turn `index` and what it should lead to; with `questions`, odd turns ask
    the language model."""
    if questions and index % 2:
        return QUESTIONS[(index // 2) % len(QUESTIONS)], LLM_REPLY
    return COMMANDS[(index // 2 if questions else index) % len(COMMANDS)]


def make_turn(voice: Voice, index: int, questions: bool = False) -> Turn:
    """Turn `index`: the request, voice, speed and pause all rotate with it (each round of the
    commands shifts the voices, so every command meets every voice)."""
    return spoken_turn(voice, index, *pick(index, questions))


def spoken_turn(voice: Voice, index: int, command: str, intent: str) -> Turn:
    """`command` as turn `index` would say it (its voice, speed and pause)."""
    name = VOICES[(index + index // len(COMMANDS)) % len(VOICES)]
    speed = SPEEDS[(index // len(VOICES)) % len(SPEEDS)]
    wake = voice.say(WAKE_PHRASE, name, speed)
    spoken = voice.say(command, name, speed)
    lead, pause = _silence(0.8), _silence(PAUSES[index % len(PAUSES)])
    audio = np.concatenate([lead, wake, pause, spoken, _silence(1.2)])
    wake_end = (len(lead) + len(wake)) / RATE
    speech_end = wake_end + (len(pause) + len(spoken)) / RATE
    return Turn(command, intent, name, audio, wake_end, speech_end)


def make_turns(count: int, questions: bool = False) -> list[Turn]:
    voice = Voice()
    return [make_turn(voice, i, questions) for i in range(count)]


def idle_audio(seconds: float) -> np.ndarray:
    """`seconds` of speech without the wake word and silences, repeated as needed."""
    voice = Voice()
    parts: list[np.ndarray] = []
    for sentence, name in zip(IDLE_SENTENCES, itertools.cycle(VOICES), strict=False):
        parts += [voice.say(sentence, name, 160), _silence(0.7)]
    once = np.concatenate(parts)
    repeats = int(np.ceil(seconds * RATE / len(once)))
    return np.tile(once, repeats)[: round(seconds * RATE)]


def frames(audio: np.ndarray, size: int = 1280) -> Iterator[np.ndarray]:
    """`audio` in consecutive chunks of `size` samples (80 ms: one wake-word frame)."""
    for i in range(0, len(audio), size):
        yield audio[i : i + size]
