"""The listening front end: 80 ms frames in, `wake` / `utterance` / `no_speech` events out.

Synchronous and free of threads, so `replay` and the daemon's audio thread share it. It keeps the
last two seconds of audio: the wake model fires 0.1-0.5 s after the wake phrase ends, and a user
who says "hey jarvis turn on the light" without a pause has already started the command by then.
When the user paused after the wake phrase, the command starts at the first speech after the
pause. Without a pause, the phrase is taken to end in the frame where the wake model's score
began to rise (the first window holding the whole phrase), at that frame's quietest point (the
gap, or the closure, between the wake phrase and the first word), and the command starts there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Final

import numpy as np

from satellite.events import Event, NoSpeechEvent, UtteranceEvent, WakeEvent
from satellite.voice.confirm import AFTER, BEFORE, WakeConfirmer
from satellite.voice.vad import VAD_FRAME, Segment, Segmenter
from satellite.voice.wake import FRAME, RATE, WakeDetector

HISTORY: Final = 2 * RATE
SEARCH_FROM: Final = round(0.5 * RATE)
"""How far before the wake decision to look for a pause after the wake phrase."""
SEARCH_TO: Final = round(0.2 * RATE)
"""Where that search stops: later dips are inside the command (measured: docs/LISTENING.md)."""
PAUSE: Final = round(0.2 * RATE)
"""Non-speech this long between the wake phrase and the decision is a pause after the phrase."""
LEVEL_SPAN: Final = round(1.5 * RATE)
"""The audio before the wake decision whose loudness is the wake event's `level`."""
_HOP: Final = 160
_WINDOW: Final = 480


def quietest_point(audio: np.ndarray) -> int:
    """Index of the centre of the lowest-energy 30 ms window of `audio` (10 ms hops)."""
    if len(audio) <= _WINDOW:
        return len(audio) // 2
    squares = audio.astype(np.float64) ** 2
    sums = np.convolve(squares, np.ones(_WINDOW), mode="valid")[::_HOP]
    return int(np.argmin(sums)) * _HOP + _WINDOW // 2


def last_pause(audio: np.ndarray, loud: float) -> int | None:
    """Offset of the last run of at least `PAUSE` of quiet (RMS under 10 % of `loud`)."""
    frames = len(audio) // VAD_FRAME
    if frames == 0:
        return None
    blocks = audio[: frames * VAD_FRAME].astype(np.float64).reshape(frames, VAD_FRAME)
    quiet = np.sqrt(np.mean(blocks**2, axis=1)) < 0.1 * loud
    need = PAUSE // VAD_FRAME
    found = None
    run = 0
    for i, q in enumerate(quiet):
        run = run + 1 if q else 0
        if run >= need:
            found = (i - run + 1) * VAD_FRAME
    return found


def loudness(audio: np.ndarray) -> float:
    """The 95th percentile of 20 ms RMS: how loud speech is here."""
    frames = len(audio) // VAD_FRAME
    if frames == 0:
        return 0.0
    blocks = audio[: frames * VAD_FRAME].astype(np.float64).reshape(frames, VAD_FRAME)
    return float(np.percentile(np.sqrt(np.mean(blocks**2, axis=1)), 95))


def dbfs(rms: float) -> float:
    """An int16 RMS in dB below full scale (-120 for silence), to 0.1 dB."""
    return round(20 * math.log10(rms / 32768), 1) if rms > 0.00001 * 32768 else -120.0


class Listener:
    def __init__(
        self,
        detector: WakeDetector,
        segmenter: Segmenter,
        own_voice: Callable[[], bool] | None = None,
        confirmer: WakeConfirmer | None = None,
    ) -> None:
        self.detector = detector
        self.confirmer = confirmer
        """A second opinion on the wakes of the models that ask for one."""
        self.segmenter = segmenter
        self.own_voice = own_voice
        """True when a wake word now may be the satellite's own voice (the echo canceller's
        `own_voice`): such a wake is not taken."""
        self.own_wakes = 0
        """Wakes refused as the satellite's own voice."""
        self.samples = 0
        """Samples seen since the start of the stream."""
        self.wake_enabled = True
        self.following = False
        """Listening without the wake word after a reply that asked: a wake word heard now
        starts a turn of its own (the command after it), as at any other time."""
        self._history = np.zeros(0, dtype=np.int16)
        self._pending = np.zeros(0, dtype=np.int16)

    @property
    def now(self) -> float:
        return self.samples / RATE

    @property
    def listening(self) -> bool:
        return self.segmenter.active

    def feed(self, audio: np.ndarray) -> list[Event]:
        """Add audio in any chunk size; returns the events it caused, in order."""
        self._pending = np.concatenate([self._pending, audio.astype(np.int16, copy=False)])
        events: list[Event] = []
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            events.extend(self._frame(frame))
        return events

    def finish(self) -> list[Event]:
        """The input ended: flush a partial frame and close an open utterance."""
        events: list[Event] = []
        if len(self._pending):
            self.samples += len(self._pending)
            segment = self.segmenter.feed(self._pending)
            self._pending = np.zeros(0, dtype=np.int16)
            if segment is not None:
                events.append(self._segment_event(segment))
        segment = self.segmenter.finish()
        if segment is not None:
            events.append(self._segment_event(segment))
        return events

    def reset(self) -> None:
        """Start a new stream: no audio, no open utterance, time back to zero."""
        self.segmenter.cancel()
        self.detector.reset()
        self.samples = 0
        self._history = np.zeros(0, dtype=np.int16)
        self._pending = np.zeros(0, dtype=np.int16)

    def start_listening(self, window: float | None = None, follow_up: bool = False) -> None:
        """Open a turn without the wake word (the `listen` command; `follow_up`: after a reply
        that asked), speech to start within `window` seconds (default: the VAD's)."""
        self.segmenter.begin(self.samples, window=window)
        self.following = follow_up

    def cancel(self) -> None:
        self.segmenter.cancel()
        self.following = False

    def _frame(self, frame: np.ndarray) -> list[Event]:
        self.samples += FRAME
        self._history = np.concatenate([self._history, frame])[-HISTORY:]
        wake = self.detector.process(frame, self.now)
        woken = wake is not None and self.following and self._may_wake()
        if self.segmenter.active and not woken:
            return self._listen(frame)
        if wake is None or not self.wake_enabled:
            return []
        if self.own_voice is not None and self.own_voice():
            self.own_wakes += 1
            return []
        wake = replace(wake, level=dbfs(loudness(self._history[-LEVEL_SPAN:])))
        origin = self._wake_end(wake)
        if not self._confirmed(wake.model, origin):
            return self._listen(frame) if self.segmenter.active else []
        self.following = False  # a wake word in the follow-up window: its own turn
        self.segmenter.begin(origin, after_wake=True)
        segment = self.segmenter.feed(self._history[len(self._history) - (self.samples - origin) :])
        return [wake] if segment is None else [wake, self._segment_event(segment)]

    def _listen(self, frame: np.ndarray) -> list[Event]:
        segment = self.segmenter.feed(frame)
        if segment is not None:
            self.following = False
        return [] if segment is None else [self._segment_event(segment)]

    def _confirmed(self, model: str, origin: int) -> bool:
        """True unless the model asks for a second opinion and does not get it."""
        if self.confirmer is None or not self.confirmer.wants(model):
            return True
        first = self.samples - len(self._history)
        audio = self._history[max(0, origin - BEFORE - first) : origin + AFTER - first]
        return self.confirmer.confirms(model, audio)

    def _may_wake(self) -> bool:
        return self.wake_enabled and not (self.own_voice is not None and self.own_voice())

    def _wake_end(self, wake: WakeEvent) -> int:
        """Absolute sample where the wake phrase is taken to end.

        When the user paused after the phrase (a pause after the quietest point 0.2-0.5 s
        before the decision), at that pause; otherwise at the quietest point of the frame
        where the wake model's score began to rise.
        """
        n = len(self._history)
        lo, hi = max(0, n - SEARCH_FROM), n - SEARCH_TO
        start = lo + quietest_point(self._history[lo:hi])
        pause = last_pause(self._history[start:], loudness(self._history))
        if pause is not None:
            return self.samples - n + start + pause
        hi = max(FRAME, n - self.detector.frames_since_rise(wake.model) * FRAME)
        return self.samples - n + hi - FRAME + quietest_point(self._history[hi - FRAME : hi])

    def _segment_event(self, segment: Segment) -> Event:
        if segment.start is None:
            return NoSpeechEvent(t=self.now)
        return UtteranceEvent(
            t=self.now,
            start=segment.start / RATE,
            end=segment.end / RATE,
            reason=segment.reason,
            audio=segment.audio,
        )
