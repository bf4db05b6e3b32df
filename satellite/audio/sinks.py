"""Where audio goes: a speaker, a WAV file, or nowhere. All take 16 kHz mono int16 chunks.

`play(chunk)` blocks until the chunk is queued (a speaker keeps at most `SPEAKER_QUEUE_SECONDS`
ahead of the device); `drain()` blocks until everything queued has been heard; `stop()`
discards whatever is queued at once and releases a blocked `play()` or `drain()` (it may be
called from another thread). Volume (0-100, a linear gain) is applied here.
"""

from __future__ import annotations

import logging
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, Self, runtime_checkable

import numpy as np

from satellite.audio.devices import (
    AudioDevice,
    find_device,
    import_pyaudio,
    open_portaudio,
    open_stream,
    quiet_stderr,
)
from satellite.audio.wavfile import RATE, Resampler, to_int16
from satellite.errors import AudioError

log = logging.getLogger(__name__)

SPEAKER_QUEUE_SECONDS: Final = 0.5
"""Audio queued ahead of the speaker; `stop()` silences it within one device block."""
SPEAKER_BUFFER_SECONDS: Final = 0.02
STALL_SECONDS: Final = 3.0
"""A speaker that consumes nothing for this long has failed."""


@runtime_checkable
class AudioSink(Protocol):
    name: str
    volume: int

    def play(self, chunk: np.ndarray) -> None: ...

    def drain(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def set_volume(self, volume: int) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def apply_volume(chunk: np.ndarray, volume: int) -> np.ndarray:
    """`chunk` scaled by `volume`/100 as int16."""
    samples = np.asarray(chunk, dtype=np.int16).reshape(-1)
    if volume >= 100:
        return samples
    return to_int16(samples.astype(np.float64) * (volume / 100.0))


class SinkBase:
    """Volume and context-manager behaviour shared by the sinks."""

    name: str = "audio"

    def __init__(self, volume: int = 100) -> None:
        self.volume = 100
        self.set_volume(volume)

    def set_volume(self, volume: int) -> None:
        if not 0 <= volume <= 100:
            raise ValueError(f"volume: expected 0..100, got {volume}")
        self.volume = int(volume)

    def drain(self) -> None:
        """Wait until everything played so far has been heard."""

    def stop(self) -> None:
        """Discard queued audio at once."""

    def close(self) -> None:
        """Finish and release the output."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class NullSink(SinkBase):
    """Discards the audio, counting the samples it was given."""

    def __init__(self, volume: int = 100) -> None:
        super().__init__(volume)
        self.name = "null"
        self.samples_played = 0

    def play(self, chunk: np.ndarray) -> None:
        self.samples_played += len(chunk)


class WavSink(SinkBase):
    """Writes 16 kHz mono 16-bit WAV; the header is kept valid after every chunk."""

    def __init__(self, path: str | Path, volume: int = 100) -> None:
        super().__init__(volume)
        self.name = str(path)
        try:
            self._file = open(path, "wb")  # noqa: SIM115 (kept open until close())
        except OSError as err:
            raise AudioError(f"cannot write WAV file {path}: {err.strerror or err}") from err
        self._out: wave.Wave_write | None = wave.open(self._file, "wb")  # noqa: SIM115
        self._out.setnchannels(1)
        self._out.setsampwidth(2)
        self._out.setframerate(RATE)

    def play(self, chunk: np.ndarray) -> None:
        if self._out is None:
            raise AudioError(f"{self.name}: the WAV sink is closed")
        try:
            self._out.writeframes(apply_volume(chunk, self.volume).astype("<i2").tobytes())
        except OSError as err:
            raise AudioError(f"cannot write WAV file {self.name}: {err.strerror or err}") from err

    def close(self) -> None:
        if self._out is not None:
            out, self._out = self._out, None
            try:
                out.close()
                self._file.close()
            except OSError as err:
                raise AudioError(f"cannot finish WAV file {self.name}: {err}") from err


class SpeakerSink(SinkBase):
    """An output device through PortAudio, fed by a callback from a short queue."""

    def __init__(self, device: str | None = None, volume: int = 100) -> None:
        super().__init__(volume)
        self._continue = import_pyaudio().paContinue
        self._pa = open_portaudio()
        try:
            self.device = find_device(self._pa, device, "output")
            self._stream, self.device_rate, self._channels = self._open(self.device)
        except BaseException:
            self._pa.terminate()
            raise
        self.name = f"speaker {self.device.name!r}"
        self._resampler = Resampler(RATE, self.device_rate)
        self._bytes_per_second = self.device_rate * self._channels * 2
        self._queue = bytearray()
        self._cond = threading.Condition()
        self._generation = 0
        self._closed = False
        self._stream.start_stream()

    def _open(self, device: AudioDevice) -> tuple[Any, int, int]:
        return open_stream(self._pa, device, "output", RATE, SPEAKER_BUFFER_SECONDS, self._callback)

    def _callback(
        self, data: bytes | None, frames: int, timing: Any, status: int
    ) -> tuple[bytes, int]:
        wanted = frames * self._channels * 2
        with self._cond:
            out = bytes(self._queue[:wanted])
            del self._queue[:wanted]
            self._cond.notify_all()
        return out + bytes(wanted - len(out)), self._continue

    def play(self, chunk: np.ndarray) -> None:
        samples = apply_volume(chunk, self.volume).astype(np.float64)
        self._enqueue(self._encode(self._resampler.process(samples)))

    def _encode(self, samples: np.ndarray) -> bytes:
        pcm = to_int16(samples)
        if self._channels > 1:
            pcm = np.repeat(pcm, self._channels)
        return pcm.astype("<i2").tobytes()

    def _enqueue(self, data: bytes) -> None:
        limit = int(SPEAKER_QUEUE_SECONDS * self._bytes_per_second)
        with self._cond:
            generation = self._generation
            self._wait(lambda: len(self._queue) <= limit, generation)
            if generation == self._generation:
                self._queue += data

    def drain(self) -> None:
        self._enqueue(self._encode(self._resampler.flush()))
        with self._cond:
            self._wait(lambda: not self._queue, self._generation)

    def _wait(self, done: Callable[[], bool], generation: int) -> None:
        """Wait (holding the condition) until `done()` or a `stop()`; a stalled device fails."""
        size, since = len(self._queue), time.monotonic()
        while not done() and generation == self._generation and not self._closed:
            self._cond.wait(0.1)
            if len(self._queue) != size:
                size, since = len(self._queue), time.monotonic()
            elif time.monotonic() - since > STALL_SECONDS:
                raise AudioError(
                    f"{self.name}: playback stalled (the device stopped consuming audio)"
                )

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._resampler.reset()
            self._cond.notify_all()

    def close(self) -> None:
        if self._closed:
            return
        self.stop()
        self._closed = True
        try:
            with quiet_stderr():
                self._stream.stop_stream()
                self._stream.close()
        except OSError as err:
            log.debug("closing %s: %s", self.name, err)
        finally:
            self._pa.terminate()


def open_sink(spec: str | None, volume: int = 100) -> AudioSink:
    """`default` or a device name/index (a speaker), a path ending in .wav, or `null`/None."""
    spec = (spec or "null").strip()
    if spec in ("null", "none"):
        return NullSink(volume)
    if spec.lower().endswith(".wav"):
        return WavSink(spec, volume)
    return SpeakerSink(None if spec == "default" else spec, volume)
