"""Stop phrases while the satellite speaks: "stop", "cancel", "never mind", "be quiet" cut the
reply off without a new turn.

While a reply is spoken (`Pipeline.overhearing`) every frame also goes to a segmenter of its
own, with a short end of speech; each short segment is held by Moonshine to the stop phrases
alone (a second `HeldMoonshine` on the same decoder, `like` the assistant's), with the free
decode as the competitor, as every command is. A segment the echo canceller judges to be the
satellite's own voice is not heard. Without held Moonshine (pocketsphinx, a remote recogniser)
there are no stop phrases; the wake word still cuts a reply off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Final, Protocol

import numpy as np
from hassil import Intents

from satellite.config import VadConfig
from satellite.stt import Transcript
from satellite.voice.vad import Segmenter

log = logging.getLogger(__name__)

STOP_PHRASES: Final = (
    "stop",
    "stop it",
    "stop talking",
    "cancel",
    "never mind",
    "nevermind",
    "be quiet",
    "quiet",
    "that's enough",
    "enough",
    "shut up",
)
END_SILENCE: Final = 0.15
"""Seconds of silence that end a stop phrase (a command's end of speech waits longer)."""
LONGEST: Final = 2.0
"""Seconds: a longer segment is not a stop phrase."""


class Hearer(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...


def stop_intents(phrases: tuple[str, ...] = STOP_PHRASES) -> Intents:
    """The stop phrases as one intent, for a held recogniser."""
    return Intents.from_dict(
        {"language": "en", "intents": {"Stop": {"data": [{"sentences": list(phrases)}]}}}
    )


class StopListener:
    """`begin()` when a reply starts; `feed(frame)` is True when a stop phrase was said."""

    def __init__(
        self,
        hearer: Hearer,
        vad: VadConfig,
        own_voice: Callable[[], bool] | None = None,
    ) -> None:
        self.hearer = hearer
        self.own_voice = own_voice
        settings = replace(vad, end_silence=END_SILENCE, max_utterance=LONGEST)
        self.segmenter = Segmenter(replace(settings, no_speech_timeout=3600.0))
        self.samples = 0
        self.heard = 0
        """Stop phrases heard."""

    @property
    def active(self) -> bool:
        return self.segmenter.active

    def begin(self, at: int) -> None:
        self.samples = at
        self.segmenter.begin(at)

    def cancel(self) -> None:
        self.segmenter.cancel()

    def feed(self, frame: np.ndarray) -> bool:
        self.samples += len(frame)
        segment = self.segmenter.feed(frame)
        if segment is None:
            return False
        self.segmenter.begin(self.samples)
        if segment.start is None or segment.reason == "max_length":
            return False
        if self.own_voice is not None and self.own_voice():
            return False
        transcript = self.hearer.transcribe(segment.audio)
        said = not transcript.rejected and not transcript.out_of_grammar
        log.info("while speaking heard %r: %s", transcript.text or transcript.guess, said)
        self.heard += said
        return said
