"""Where audio comes from: a WAV file, stdin, or a microphone. All deliver 16 kHz mono int16.

`read(samples)` returns exactly `samples` samples, except the last chunk of a finite source,
which may be shorter; `None` means the source has ended. A microphone that fails mid-run is
reopened with growing delays by `ReopeningSource`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final, Protocol, Self, runtime_checkable

import numpy as np

from satellite.audio.devices import (
    AudioDevice,
    find_device,
    import_pyaudio,
    open_portaudio,
    open_stream,
    quiet_stderr,
)
from satellite.audio.wavfile import RATE, Resampler, read_wav, to_int16
from satellite.errors import AudioError

log = logging.getLogger(__name__)

MIC_BUFFER_SECONDS: Final = 0.04
"""Size of each block PortAudio hands to the capture callback."""
MIC_QUEUE_SECONDS: Final = 10.0
"""Captured audio kept for a slow reader before the oldest blocks are dropped."""
MIC_READ_TIMEOUT: Final = 2.0
"""A microphone that delivers nothing for this long has failed."""


@runtime_checkable
class AudioSource(Protocol):
    name: str

    def read(self, samples: int) -> np.ndarray | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class SourceBase:
    """Context-manager behaviour shared by the sources."""

    name: str = "audio"

    def close(self) -> None:
        """Release the source; reading afterwards returns `None`."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WavSource(SourceBase):
    """A WAV file of any rate and channel count, resampled to 16 kHz mono on open."""

    def __init__(self, path: str | Path) -> None:
        self.name = str(path)
        self.audio = read_wav(path)
        self.position = 0

    @property
    def duration(self) -> float:
        return len(self.audio) / RATE

    def read(self, samples: int) -> np.ndarray | None:
        if self.position >= len(self.audio):
            return None
        chunk = self.audio[self.position : self.position + samples]
        self.position += len(chunk)
        return chunk

    def close(self) -> None:
        self.position = len(self.audio)


class StdinSource(SourceBase):
    """Raw signed 16-bit little-endian, 16 kHz, mono samples from stdin (or any binary stream)."""

    def __init__(self, stream: BinaryIO | None = None, name: str = "stdin") -> None:
        self.name = name
        # unbuffered: a read blocked at shutdown holds no lock of the interpreter's (a
        # buffered stdin would abort the exit: "could not acquire lock ... at shutdown")
        raw: BinaryIO = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
        self._stream = stream if stream is not None else raw
        self._ended = False

    def read(self, samples: int) -> np.ndarray | None:
        if self._ended:
            return None
        wanted = 2 * samples
        data = bytearray()
        while len(data) < wanted:
            block = self._stream.read(wanted - len(data))
            if not block:
                self._ended = True
                break
            data += block
        if len(data) % 2:
            log.warning("%s: dropping a trailing odd byte (not whole 16-bit samples)", self.name)
            del data[-1]
        if not data:
            return None
        return np.frombuffer(bytes(data), dtype="<i2").astype(np.int16)

    def close(self) -> None:
        self._ended = True


class MicSource(SourceBase):
    """A capture device through PortAudio, captured by a callback so no frame is ever lost."""

    def __init__(self, device: str | None = None, rate: int = RATE) -> None:
        pyaudio = import_pyaudio()
        self._overflow_flag, self._continue = pyaudio.paInputOverflow, pyaudio.paContinue
        self._pa = open_portaudio()
        try:
            self.device = find_device(self._pa, device, "input")
            self._stream, self.device_rate, self._channels = self._open(self.device, rate)
        except BaseException:
            self._pa.terminate()
            raise
        self.name = f"microphone {self.device.name!r}"
        self._resampler = Resampler(self.device_rate, RATE)
        blocks = max(1, round(MIC_QUEUE_SECONDS / MIC_BUFFER_SECONDS))
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=blocks)
        self._pending = np.zeros(0, dtype=np.int16)
        self.overflows = 0
        self.dropped_blocks = 0
        self._closed = False
        self._stream.start_stream()
        log.info(
            "capturing from %s at %d Hz, %d channel(s)", self.name, self.device_rate, self._channels
        )

    def _open(self, device: AudioDevice, wanted: int) -> tuple[Any, int, int]:
        return open_stream(self._pa, device, "input", wanted, MIC_BUFFER_SECONDS, self._callback)

    def _callback(
        self, data: bytes | None, frames: int, timing: Any, status: int
    ) -> tuple[None, int]:
        if status & self._overflow_flag:
            self.overflows += 1
        if data:
            try:
                self._queue.put_nowait(data)
            except queue.Full:  # the reader fell 10 s behind: keep the newest audio
                self.dropped_blocks += 1
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                self._queue.put_nowait(data)
        return None, self._continue

    def read(self, samples: int) -> np.ndarray | None:
        if self._closed:
            return None
        while len(self._pending) < samples:
            self._pending = np.concatenate([self._pending, self._next_block()])
        chunk, self._pending = self._pending[:samples], self._pending[samples:]
        return chunk

    def _next_block(self) -> np.ndarray:
        try:
            data = self._queue.get(timeout=MIC_READ_TIMEOUT)
        except queue.Empty:
            active = self._stream_active()
            state = "capture delivers no audio" if active else "capture stopped"
            raise AudioError(f"{self.name}: {state} for {MIC_READ_TIMEOUT:.0f} s") from None
        block = np.frombuffer(data, dtype="<i2").astype(np.float64)
        if self._channels > 1:
            block = block.reshape(-1, self._channels).mean(axis=1)
        return to_int16(self._resampler.process(block))

    def _stream_active(self) -> bool:
        try:
            return bool(self._stream.is_active())
        except OSError:
            return False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            with quiet_stderr():
                self._stream.stop_stream()
                self._stream.close()
        except OSError as err:  # the device may already be gone
            log.debug("closing %s: %s", self.name, err)
        finally:
            self._pa.terminate()


class ReopeningSource(SourceBase):
    """Wraps a device source; when it fails, reopens it with doubling delays up to a limit.

    The first open happens here and its error is raised as is (a wrong device name is a user
    mistake, not a glitch). `close()` from another thread interrupts a pending wait.
    """

    def __init__(
        self,
        opener: Callable[[], AudioSource],
        backoff_max: float = 30.0,
        backoff_initial: float = 0.5,
    ) -> None:
        self._opener = opener
        self.backoff_max = backoff_max
        self.backoff_initial = min(backoff_initial, backoff_max)
        self._source: AudioSource | None = opener()
        self.name = self._source.name
        self._closed = threading.Event()
        self.delays: list[float] = []
        """Every wait before a reopening attempt, in seconds (for logs and tests)."""
        self.reopened = 0

    def read(self, samples: int) -> np.ndarray | None:
        while not self._closed.is_set():
            if self._source is None and not self._reopen():
                break
            assert self._source is not None
            try:
                return self._source.read(samples)
            except (AudioError, OSError) as err:
                log.warning("%s failed: %s; reopening it", self.name, err)
                self._discard()
        return None

    def _reopen(self) -> bool:
        """Try to reopen until it works (True) or the source is closed (False)."""
        delay = self.backoff_initial
        while True:
            self.delays.append(delay)
            if self._closed.wait(delay):
                return False
            try:
                self._source = self._opener()
            except (AudioError, OSError) as err:
                delay = min(delay * 2.0, self.backoff_max)
                log.warning("reopening %s failed: %s; next try in %.1f s", self.name, err, delay)
                continue
            self.reopened += 1
            log.info("%s reopened", self.name)
            return True

    def _discard(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except (AudioError, OSError) as err:
                log.debug("closing failed %s: %s", self.name, err)

    def close(self) -> None:
        self._closed.set()
        self._discard()


def open_source(spec: str, rate: int = RATE, reopen_backoff_max: float = 30.0) -> AudioSource:
    """`default` or a device name/index (a microphone), a WAV file path, or `-` (stdin)."""
    spec = spec.strip()
    if spec == "-":
        return StdinSource()
    if spec != "default" and _looks_like_file(spec):
        return WavSource(spec)

    def opener() -> AudioSource:
        return MicSource(None if spec == "default" else spec, rate)

    return ReopeningSource(opener, backoff_max=reopen_backoff_max)


def _looks_like_file(spec: str) -> bool:
    return spec.lower().endswith(".wav") or os.sep in spec or Path(spec).is_file()


def iter_frames(source: AudioSource, size: int, pad: bool = True) -> Iterator[np.ndarray]:
    """Frames of exactly `size` samples until the source ends; the last one zero-padded if `pad`."""
    while (chunk := source.read(size)) is not None:
        if len(chunk) < size:
            if not pad:
                return
            chunk = np.concatenate([chunk, np.zeros(size - len(chunk), dtype=np.int16)])
        yield chunk
