"""Deaf to its own voice: what the satellite plays, taken out of what its microphone hears.

We know exactly what we play. `PlayedAudio` keeps it on the capture clock (`time.monotonic()`
seconds, 16 kHz samples): `TappedSink` writes each chunk there at the time it will be heard
(after what is still queued ahead of it; a `stop()` takes back what was queued and will not be
heard). `EchoCanceller.clean(frame, t)` takes a microphone frame that ended at `t`, finds the
audio played during it and subtracts its echo: a partitioned-block frequency-domain adaptive
filter (normalised LMS, constrained gradient) learns the path from the speaker to the
microphone — the device latencies, the delay through the air (10-80 ms at a metre or two) and
the room's reflections — up to `EchoConfig.tail` seconds. While nothing has been played for a
tail's length the frame passes untouched and nothing is computed.

When the user speaks over the reply the error is their voice, not the filter's mistake: the
filter then adapts at a tenth of its step (a double-talk guard on the ratio of the error to
the echo it predicts), so their words do not unlearn the room. The filter is kept from one
reply to the next: the room does not change between them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final, Self

import numpy as np

from satellite.audio.echo_config import EchoConfig
from satellite.audio.sinks import AudioSink, apply_volume
from satellite.audio.wavfile import RATE

BLOCK: Final = 256
"""Samples per filter block (16 ms)."""
OWN_VOICE_FRAMES: Final = 12
"""Frames (80 ms) looked at when a wake word comes: about the length of a wake phrase."""
OWN_VOICE_DB: Final = -8.0
"""Less left than this after the echo is taken out: what woke it was mostly what was played."""
NEAR_FRAMES: Final = 3
"""Frames with a voice of their own over what was played that make a wake the user's (a frame
left louder than it was heard is the filter's mistake, not a voice)."""
LOUD: Final = 300.0
"""RMS of played audio (int16) above which a frame's echo tells how well it is taken out."""
NEAR_RMS: Final = 150.0
"""RMS (int16) a frame's remainder needs to count as a voice of its own."""
VOICE_RMS: Final = 400.0
"""What is left of a frame under this RMS, while the satellite plays, is its own echo's
remainder (a user's speech near the microphone is louder)."""
TAIL_FRAMES: Final = 3
"""Frames after a loud one still holding its reflections."""
LEARNING: Final = 300
"""Blocks (16 ms) of played audio the filter learns at its full step, whatever it hears."""
ERLE_DECAY: Final = 0.05
CONVERGED: Final = 12.0
"""dB of echo reduction below which the filter has not learnt the room (wakes are refused
while something plays)."""
KEEP_SECONDS: Final = 75.0
"""Played audio kept: the daemon's queue (60 s) may hold frames that long before they are fed."""


class PlayedAudio:
    """What was played, by absolute sample of the clock (`seconds x 16 kHz`); thread-safe."""

    def __init__(self, keep: float = KEEP_SECONDS) -> None:
        self._keep = round(keep * RATE)
        self._chunks: list[tuple[int, np.ndarray]] = []
        self._lock = threading.Lock()
        self.end = 0
        """Where what was played so far ends (absolute sample)."""

    def add(self, samples: np.ndarray, start: int) -> int:
        """Record `samples` heard from absolute sample `start` (or after what is queued);
        returns where they end."""
        with self._lock:
            start = max(start, self.end)
            self._chunks.append((start, np.asarray(samples, dtype=np.int16).reshape(-1)))
            self.end = start + len(samples)
            self._chunks = [(s, c) for s, c in self._chunks if s + len(c) > self.end - self._keep]
            return self.end

    def take_back(self, at: int) -> None:
        """What was queued to be heard after `at` will not be (the output was stopped)."""
        with self._lock:
            kept = [(s, c[: max(0, at - s)]) for s, c in self._chunks if s < at]
            self._chunks = [(s, c) for s, c in kept if len(c)]
            self.end = min(self.end, at)

    def window(self, start: int, length: int) -> np.ndarray | None:
        """The audio heard in [start, start + length) as float, or None when it was silent."""
        with self._lock:
            chunks = [(s, c) for s, c in self._chunks if s < start + length and s + len(c) > start]
        if not chunks:
            return None
        out = np.zeros(length, dtype=np.float64)
        for s, c in chunks:
            lo, hi = max(s, start), min(s + len(c), start + length)
            out[lo - start : hi - start] = c[lo - s : hi - s]
        return out if out.any() else None


def clock_sample(t: float) -> int:
    """The absolute sample of monotonic time `t`."""
    return round(t * RATE)


class TappedSink:
    """An `AudioSink` that also writes what it plays into `PlayedAudio`, when it is heard."""

    def __init__(
        self, inner: AudioSink, played: PlayedAudio, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self.played = played
        self.clock = clock
        self.name = inner.name

    @property
    def volume(self) -> int:
        return self.inner.volume

    @volume.setter
    def volume(self, volume: int) -> None:
        self.inner.set_volume(volume)

    def play(self, chunk: np.ndarray) -> None:
        heard = apply_volume(chunk, self.inner.volume)
        self.played.add(heard, clock_sample(self.clock()))
        self.inner.play(chunk)

    def drain(self) -> None:
        self.inner.drain()

    def stop(self) -> None:
        self.inner.stop()
        self.played.take_back(clock_sample(self.clock()))

    def close(self) -> None:
        self.inner.close()

    def set_volume(self, volume: int) -> None:
        self.inner.set_volume(volume)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class EchoCanceller:
    """`clean(frame, t)`: the microphone frame ending at monotonic time `t`, less the echo."""

    def __init__(self, played: PlayedAudio, config: EchoConfig | None = None) -> None:
        self.played = played
        self.config = config or EchoConfig()
        self.filter = BlockFilter(max(2, round(self.config.tail * RATE / BLOCK)), self.config.step)
        self.active_frames = 0
        """Frames that had played audio to take out."""
        self._recent: deque[tuple[float, float, bool]] = deque(maxlen=OWN_VOICE_FRAMES)
        """Per frame: the energy heard, what is left after the echo is taken out, and whether
        something loud was played."""
        self._loud: deque[tuple[float, float]] = deque(maxlen=5)
        self._frame = 1280
        self.erle = 0.0
        """How far the filter takes the echo down, dB: the best of recent loud frames, falling
        by `ERLE_DECAY` a frame (a user speaking over the reply does not make it look worse)."""

    def own_voice(self) -> bool:
        """A wake word now may have been the satellite's own voice: something loud was played
        in the last second and no frame of it held a voice of its own (what is left after the
        echo is taken out far below what was heard), or the filter has not learnt the room."""
        loud = [(heard, left) for heard, left, played in self._recent if played]
        if not loud:
            return False
        if self._unlearnt():
            return True
        floor = NEAR_RMS**2 * self._frame
        return sum(_voiced(heard, left, floor) for heard, left in loud) < NEAR_FRAMES

    def echo_only(self) -> bool:
        """The last frame held only what was played: something loud was played in it or just
        before (the room's reflections), and what is left after the echo is taken out is far
        below what was heard or under `VOICE_RMS`; or the filter has not learnt the room yet.
        Nobody else spoke in it."""
        recent = list(self._recent)[-TAIL_FRAMES:]
        if not recent or not any(played for _, _, played in recent):
            return False
        if self._unlearnt():
            return True
        heard, left, _ = recent[-1]
        return not _voiced(heard, left, VOICE_RMS**2 * self._frame)

    def _unlearnt(self) -> bool:
        """The filter has not learnt the room yet: what is left says nothing."""
        return self.erle < CONVERGED or self.filter.adapted < LEARNING

    def clean(self, frame: np.ndarray, t: float) -> np.ndarray:
        samples = np.asarray(frame, dtype=np.int16).reshape(-1)
        n = len(samples)
        if n == 0 or n % BLOCK:
            return samples
        end = clock_sample(t)
        tail = self.filter.partitions * BLOCK
        if self.played.window(end - n - tail, n + tail) is None:
            self.filter.forget_input()
            self._recent.append((0.0, 0.0, False))
            return samples
        reference = self.played.window(end - n - BLOCK, n + BLOCK)
        if reference is None:
            reference = np.zeros(n + BLOCK)
        self.active_frames += 1
        mic = samples.astype(np.float64)
        out = np.empty(n, dtype=np.float64)
        for i in range(0, n, BLOCK):
            out[i : i + BLOCK] = self.filter.block(reference[i : i + 2 * BLOCK], mic[i : i + BLOCK])
        self._measure(mic, out, reference[BLOCK:])
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    def _measure(self, mic: np.ndarray, out: np.ndarray, reference: np.ndarray) -> None:
        heard, left = float(np.dot(mic, mic)) + 1.0, float(np.dot(out, out))
        loud = float(np.dot(reference, reference)) > len(reference) * LOUD**2
        self._recent.append((heard, left, loud))
        self._frame = len(mic)
        if loud:
            self._loud.append((heard, left))
            total = sum(h for h, _ in self._loud) / (sum(x for _, x in self._loud) + 1)
            # a voice over the reply is no failure of the filter: the best recent figure holds
            self.erle = max(float(10 * np.log10(total)), self.erle - ERLE_DECAY)


def _voiced(heard: float, left: float, floor: float) -> bool:
    """A frame's energy `heard`, and `left` after the echo is taken out: a voice of its own
    (what is left above `floor`, and within `OWN_VOICE_DB` of what was heard)."""
    return max(floor, heard * 10 ** (OWN_VOICE_DB / 10)) < left < heard


class BlockFilter:
    """A partitioned-block frequency-domain NLMS filter: `block(ref, mic)` → the mic block less
    the echo of `ref`. `ref` is the reference's last two blocks (overlap-save)."""

    def __init__(self, partitions: int, step: float) -> None:
        self.partitions = partitions
        self.step = step
        bins = BLOCK + 1
        self.weights = np.zeros((partitions, bins), dtype=np.complex128)
        self.spectra = np.zeros((partitions, bins), dtype=np.complex128)
        self.power = np.full(bins, 1.0)
        self.adapted = 0
        """Blocks adapted at the full step (the filter needs a few hundred to learn a room)."""

    def forget_input(self) -> None:
        """Nothing was played: the reference history is silence."""
        self.spectra[:] = 0

    def block(self, ref: np.ndarray, mic: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(ref)
        self.spectra = np.roll(self.spectra, 1, axis=0)
        self.spectra[0] = spectrum
        echo = np.fft.irfft((self.weights * self.spectra).sum(axis=0))[BLOCK:]
        error = mic - echo
        self._adapt(error, echo, spectrum)
        return error

    def _adapt(self, error: np.ndarray, echo: np.ndarray, spectrum: np.ndarray) -> None:
        self.power = 0.5 * self.power + 0.5 * (np.abs(self.spectra) ** 2).sum(axis=0)
        step = self.step * self._guard(error, echo)
        if step == 0:
            return
        err = np.fft.rfft(np.concatenate([np.zeros(BLOCK), error]))
        gradient = np.conj(self.spectra) * err / (self.power + 1e3)
        taps = np.fft.irfft(gradient, axis=1)
        taps[:, BLOCK:] = 0  # the constraint: a linear, not circular, convolution
        self.weights += step * np.fft.rfft(taps, axis=1)

    def _guard(self, error: np.ndarray, echo: np.ndarray) -> float:
        """The step's factor: 1 while learning; a tenth when the error is far above the echo
        the filter predicts (the user speaks over the reply)."""
        if float(np.dot(self.spectra[0], np.conj(self.spectra[0])).real) < 1e-3:
            return 0.0  # nothing played in this block: nothing to learn from
        if self.adapted < LEARNING:
            self.adapted += 1
            return 1.0
        if float(np.dot(error, error)) > 4.0 * float(np.dot(echo, echo)) + 1e4:
            return 0.1
        self.adapted += 1
        return 1.0
