"""A second opinion on a wake word: Moonshine, held to the wake phrase, hears the audio the wake
model fired on, with its free decode as the competitor, as every command is heard.

microWakeWord's models are small and fire on phrases that sound alike ("hey travis" for
hey_jarvis at 0.995); a wake model whose configuration says `confirm: true` wakes only when the
assistant's held Moonshine (a second `HeldMoonshine` on the same decoder, `like` the
assistant's) hears the phrase in the last `BEFORE` seconds before where the listener takes the
phrase to end: the likeliest wording of the phrase must be within `MIN_LR` (natural log, per
token) of what Moonshine hears freely. Only the likelihood ratio decides: the audio may begin
inside earlier speech or end inside the command's first word, so the rules on length and on the
end of speech, which hold for a whole utterance, are off. Measured: docs/LISTENING.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol

import numpy as np
from hassil import Intents

from satellite.stt import Transcript
from satellite.stt.rejection import HoldConfig
from satellite.voice.wake import RATE

log = logging.getLogger(__name__)

MIN_LR: Final = -2.0
"""The phrase's log-probability per token against the free decode's, at least."""
BEFORE: Final = round(1.5 * RATE)
"""Samples before the phrase's end that are heard (the longest wake phrase, and a margin)."""
AFTER: Final = round(0.05 * RATE)
"""Samples after it (the phrase's end is found at its quietest point, the last sound may go on)."""
REPEATS: Final = 3
"""Moonshine sometimes writes a phrase heard in noise two or three times over ("Hey, Jarvis.
Hey, Jarvis. Hey, Jarvis."): the phrase said up to this many times is the phrase."""
GREETINGS: Final = ("hey ", "okay ", "ok ", "hi ")
"""A phrase that begins with one of these is also taken without it (Moonshine often writes a
short, unstressed "hey" as "a")."""
LAX: Final = HoldConfig(
    min_lr=MIN_LR, min_token=-30.0, min_end=-30.0, min_total=-60.0, min_length=0.0, pad=0.5
)


class Hearer(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...


def wake_phrase(model: str) -> str:
    """The words of wake model `model`: `hey_jarvis` says "hey jarvis"; a model file says its
    name without the suffix (`okay_nabu.json`: "okay nabu")."""
    stem = Path(model).stem if Path(model).suffix in (".onnx", ".json") else model
    return " ".join(stem.replace("_", " ").replace("-", " ").lower().split())


def phrase_intents(phrase: str) -> Intents:
    """The ways of writing `phrase` as one intent, for a held recogniser."""
    ways = [phrase]
    for greeting in GREETINGS:
        if phrase.startswith(greeting) and len(phrase) > len(greeting):
            ways.append(phrase.removeprefix(greeting))
    sentences = [" ".join([way] * n) for way in ways for n in range(1, REPEATS + 1)]
    return Intents.from_dict(
        {"language": "en", "intents": {"Wake": {"data": [{"sentences": sentences}]}}}
    )


class WakeConfirmer:
    """`confirms(model, audio)`: does Moonshine hear model `model`'s phrase in `audio`?"""

    def __init__(self, hearers: Mapping[str, Hearer]) -> None:
        self.hearers = dict(hearers)
        self.refused = 0
        """Wakes Moonshine did not hear the phrase of."""

    def wants(self, model: str) -> bool:
        return model in self.hearers

    def confirms(self, model: str, audio: np.ndarray) -> bool:
        transcript = self.hearers[model].transcribe(audio)
        heard = transcript.in_grammar
        if not heard:
            self.refused += 1
        log.info(
            "wake word %s confirmed: %s (%r, %r %s)",
            model,
            heard,
            transcript.text,
            transcript.guess,
            transcript.reason,
        )
        return heard
