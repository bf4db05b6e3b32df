"""Stop phrases while the satellite speaks: "stop", "cancel", "never mind", "be quiet" cut the
reply off without a new turn.

While a reply is spoken (`Pipeline.overhearing`) every frame also goes to a segmenter of its
own, with a short end of speech; each short segment is held by Moonshine to the stop phrases
alone (a second `HeldMoonshine` on the same decoder, `like` the assistant's), with the free
decode as the competitor, as every command is. A frame the echo canceller judges to hold only
the satellite's own voice (`EchoCanceller.echo_only`) reaches that segmenter as silence: the
reply's remainder neither starts a segment nor keeps the user's open. Without held Moonshine
(pocketsphinx, a remote recogniser) there are no stop phrases; the wake word still cuts a
reply off.
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
from satellite.voice.wake import RATE

log = logging.getLogger(__name__)

STOP_PHRASES: Final = (
    "stop",
    "stop it",
    "stop talking",
    "cancel",
    "cancel that",
    "never mind",
    "nevermind",
    "be quiet",
    "keep quiet",
    "quiet",
    "quiet please",
    "that's enough",
    "enough",
    "shut up",
)
END_SILENCE: Final = 0.1
"""Seconds of silence that end a stop phrase (a command's end of speech waits longer). Over
the echo: 0.15 cut 25 of 40 phrases, 10 within 300 ms; 0.1 26 and 13; 0.06 25 and 14; no
reply stopped itself with any (docs/LISTENING.md)."""
LONGEST: Final = 2.0
"""Seconds: a longer segment is not a stop phrase."""
JOIN: Final = round(0.5 * RATE)
"""Samples between two segments heard as one phrase when neither is one alone."""
KEEP: Final = round(3.0 * RATE)
"""Samples of audio kept for the segments (the segmenter's own has the echo silenced)."""


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
        echo_only: Callable[[], bool] | None = None,
    ) -> None:
        self.hearer = hearer
        self.echo_only = echo_only
        settings = replace(vad, end_silence=END_SILENCE, max_utterance=LONGEST)
        self.segmenter = Segmenter(replace(settings, no_speech_timeout=3600.0))
        self.pre_roll = round(vad.pre_roll * RATE)
        self.samples = 0
        self.heard = 0
        """Stop phrases heard."""
        self._audio = np.zeros(0, dtype=np.int16)
        """The last `KEEP` of audio as it came (the segmenter's may have frames silenced)."""
        self._last: tuple[int, int] | None = None
        """The last segment not taken for a stop phrase (start, end), to join to the next."""

    @property
    def active(self) -> bool:
        return self.segmenter.active

    def begin(self, at: int) -> None:
        self.samples = at
        self._audio = np.zeros(0, dtype=np.int16)
        self._last = None
        self.segmenter.begin(at)

    def cancel(self) -> None:
        self.segmenter.cancel()

    def feed(self, frame: np.ndarray) -> bool:
        self.samples += len(frame)
        self._audio = np.concatenate([self._audio, frame])[-KEEP:]
        if self.echo_only is not None and self.echo_only():
            frame = np.zeros_like(frame)
        segment = self.segmenter.feed(frame)
        if segment is None:
            return False
        self.segmenter.begin(self.samples)
        if segment.start is None or segment.reason == "max_length":
            return False
        said = self._hear(segment.start, segment.end)
        last, self._last = self._last, (segment.start, segment.end)
        if not said and last is not None and segment.start - last[1] <= JOIN:
            said = self._hear(last[0], segment.end)  # "never ... mind", cut by a pause
        self.heard += said
        return said

    def _hear(self, start: int, end: int) -> bool:
        first = self.samples - len(self._audio)
        audio = self._audio[max(0, start - self.pre_roll - first) : end - first]
        transcript = self.hearer.transcribe(audio)
        said = transcript.in_grammar
        log.info("while speaking heard %r: %s", transcript.text or transcript.guess, said)
        return said
