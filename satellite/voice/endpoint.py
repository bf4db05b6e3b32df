"""The early end of speech: how much silence ends this utterance, from its partial transcript.

The segmenter asks a partial decode (`satellite.voice.partials`) for the audio so far when the
speech pauses. Once that partial covers all the speech heard (nothing was said after it):

- a `complete` command (a sentence of the skills, accepted with its margins, that no longer
  sentence continues) ends the turn after `vad.early_end_silence`;
- an `unfinished` one ("turn on the …", "set a timer for …") waits `vad.unfinished_silence`
  (the user pauses mid-command and goes on);
- anything else (`open`, `other`: a question, a sentence a longer one begins with) keeps the
  normal `vad.end_silence`, as does an utterance with no partial of all its speech.

On a machine where a partial takes longer than `vad.end_silence` to decode, the normal rule
ends the turn first: the fast turn is then the sequential one, less the part of the decode
done before the end (holding the end back for the partial was measured slower there: 1.3
times the sequential pipeline end to end, docs/BENCHMARKS.md).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from satellite.config import VadConfig
from satellite.voice.partials import Partial, Partials, Request

VAD_FRAME: Final = 320
RATE: Final = 16000


def frames(seconds: float) -> int:
    return max(1, round(seconds * RATE / VAD_FRAME))


class EarlyEnd:
    """Consulted by the segmenter at every VAD frame of an open utterance."""

    def __init__(self, config: VadConfig, partials: Partials) -> None:
        self.partials = partials
        self.normal = frames(config.end_silence)
        self.early = min(self.normal, frames(config.early_end_silence))
        self.unfinished = max(self.normal, frames(config.unfinished_silence))

    def begin(self) -> None:
        self.partials.begin()

    def ask(self, onset: int, upto: int, audio: np.ndarray) -> None:
        """The speech paused (`partials.lead` silent frames): a partial of `audio`, the
        utterance from `onset` to its last speech `upto` (absolute samples), as it would be
        if it ended now."""
        self.partials.request(Request(onset, upto, audio))

    def needed(self, onset: int, last_speech: int) -> int:
        """Silent frames that end the utterance now."""
        partial = self.current(onset, last_speech)
        if partial is None:
            return self.normal
        if partial.progress == "complete":
            return self.early
        if partial.progress == "unfinished":
            return self.unfinished
        return self.normal

    def current(self, onset: int, last_speech: int) -> Partial | None:
        """The latest partial when it covers all the speech of this utterance."""
        partial = self.partials.latest()
        if partial is None or partial.onset != onset or partial.upto != last_speech:
            return None
        return partial
