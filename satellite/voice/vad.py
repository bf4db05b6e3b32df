"""Speech segmentation after the wake word, with webrtcvad.

The segmenter is fed 16 kHz int16 audio in any chunk size. It classifies 20 ms frames, opens the
utterance at the first run of `speech_start` seconds of speech, and closes it after `end_silence`
seconds without speech, at `max_utterance`, or at the end of the input. It gives up with
"no speech" when nothing starts within `no_speech_timeout`. With an `EarlyEnd` (the fast turn)
it asks for a partial transcript at each pause and the silence that ends the utterance depends
on it (`satellite.voice.endpoint`): a complete command ends sooner, an unfinished one later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import webrtcvad

from satellite.config import VadConfig

if TYPE_CHECKING:
    from satellite.voice.endpoint import EarlyEnd

RATE: Final = 16000
VAD_FRAME: Final = 320
"""Samples per webrtcvad decision (20 ms)."""
PAUSE_FRAMES: Final = 10
"""A pause: 200 ms without speech."""
WAKE_TAIL: Final = round(0.6 * RATE)
"""Longest remainder of the wake phrase after the estimated end."""


@dataclass(frozen=True)
class Segment:
    """A finished segment in absolute samples of the stream, or `start is None` for no speech."""

    start: int | None
    end: int
    reason: str
    """`silence`, `complete` (the early end of a complete command), `max_length`,
    `end_of_input` or `no_speech`."""
    audio: np.ndarray


class Segmenter:
    """One utterance at a time: `begin()`, then `feed()` until it returns a `Segment`."""

    def __init__(self, config: VadConfig, early: EarlyEnd | None = None) -> None:
        self.config = config
        self.early = early
        self._start_frames = max(1, round(config.speech_start * RATE / VAD_FRAME))
        self._end_frames = max(1, round(config.end_silence * RATE / VAD_FRAME))
        self._timeout = round(config.no_speech_timeout * RATE)
        self._max = round(config.max_utterance * RATE)
        self._min = round(config.min_speech * RATE)
        self._pre_roll = round(config.pre_roll * RATE)
        self.active = False
        self._origin = 0
        self._chunks: list[np.ndarray] = []
        self._pending = np.zeros(0, dtype=np.int16)

    def begin(self, origin: int, after_wake: bool = False, window: float | None = None) -> None:
        """Start looking for speech at absolute sample `origin`.

        `after_wake`: the origin is only an estimate of the wake phrase's end, so speech running
        from the origin and stopping for a pause within `WAKE_TAIL` is the phrase's last
        syllable, not the command. `window`: seconds within which speech must start (default
        `no_speech_timeout`).
        """
        self.active = True
        seconds = self.config.no_speech_timeout if window is None else window
        self._timeout = round(seconds * RATE)
        self._tail_possible = after_wake
        self._vad = webrtcvad.Vad(self.config.aggressiveness)  # it adapts: start fresh
        self._origin = origin
        self._chunks = []
        self._pending = np.zeros(0, dtype=np.int16)
        self._position = origin
        self._run = 0
        self._silence = 0
        self._onset: int | None = None
        self._last_speech = origin
        if self.early is not None:
            self.early.begin()

    def cancel(self) -> None:
        self.active = False
        self._chunks = []

    def feed(self, audio: np.ndarray) -> Segment | None:
        """Add audio that continues the stream; returns the segment once it is decided."""
        if not self.active:
            return None
        self._chunks.append(audio)
        self._pending = np.concatenate([self._pending, audio])
        usable = len(self._pending) - len(self._pending) % VAD_FRAME
        frames, self._pending = self._pending[:usable], self._pending[usable:]
        for i in range(0, usable, VAD_FRAME):
            segment = self._decide(frames[i : i + VAD_FRAME])
            if segment is not None:
                return segment
        return None

    def finish(self) -> Segment | None:
        """The input ended: close whatever is open."""
        if not self.active:
            return None
        if self._onset is None:
            return self._close(None, self._position, "no_speech")
        return self._close(self._onset, self._last_speech, "end_of_input")

    def _decide(self, frame: np.ndarray) -> Segment | None:
        speech = self._vad.is_speech(frame.tobytes(), RATE)
        self._position += VAD_FRAME
        if self._onset is None:
            self._run = self._run + 1 if speech else 0
            if self._run >= self._start_frames:
                onset = self._position - self._run * VAD_FRAME - self._pre_roll
                self._onset = max(self._origin, onset)
                self._last_speech = self._position
            elif self._position - self._origin >= self._timeout:
                return self._close(None, self._position, "no_speech")
            return None
        if speech:
            self._silence = 0
            self._last_speech = self._position
        else:
            self._silence += 1
            if self.early is not None and self._silence == self.early.partials.lead:
                self.early.ask(self._onset, self._last_speech, self._so_far())
        if self._tail_possible and self._silence >= PAUSE_FRAMES:
            self._tail_possible = False
            if self._onset == self._origin and self._last_speech - self._origin <= WAKE_TAIL:
                self._onset = None
                self._run = 0
                return None
        if self._silence >= self._needed():
            if self._last_speech - self._onset < self._min:
                self._onset = None  # a click or a burst of noise: keep waiting for speech
                self._run = 0
                return None
            early = self._silence < self._end_frames
            return self._close(self._onset, self._last_speech, "complete" if early else "silence")
        if self._position - self._onset >= self._max:
            return self._close(self._onset, self._position, "max_length")
        return None

    def _needed(self) -> int:
        """Silent frames that end the utterance now."""
        if self.early is None or self._onset is None:
            return self._end_frames
        return self.early.needed(self._onset, self._last_speech)

    def _so_far(self) -> np.ndarray:
        """The utterance as it would be if it ended now: from its onset to its last speech."""
        assert self._onset is not None
        audio = np.concatenate(self._chunks)
        return audio[self._onset - self._origin : self._last_speech - self._origin]

    def _close(self, start: int | None, end: int, reason: str) -> Segment:
        self.active = False
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        self._chunks = []
        if start is None:
            return Segment(None, end, reason, np.zeros(0, np.int16))
        return Segment(start, end, reason, audio[start - self._origin : end - self._origin])
