"""WAV files in and out, and the band-limited resampler that brings any rate to 16 kHz.

`read_wav(path)` accepts RIFF/WAVE files with PCM 8/16/24/32-bit or IEEE float 32/64-bit samples,
plain or WAVE_FORMAT_EXTENSIBLE, at any rate and channel count, and returns 16 kHz mono int16.
Every problem with the file is an `AudioError` that names the file and says what is wrong.

`Resampler` is a streaming polyphase windowed-sinc (Kaiser) resampler: the conversion ratio is
reduced to `up/down`, and output sample `n` sits at input time `n * down / up`; its value is the
input convolved with a low-pass sinc (cut below the lower of the two Nyquist frequencies) taken
at that fractional position. One weight row per fractional phase is precomputed.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from satellite.errors import AudioError

log = logging.getLogger(__name__)

RATE: Final = 16000
"""The satellite's internal sample rate."""
ZERO_CROSSINGS: Final = 16
"""Half-width of the sinc kernel, in zero crossings of the cut-off frequency."""
ROLLOFF: Final = 0.92
"""Cut-off as a fraction of the lower Nyquist frequency; the rest is the transition band."""
KAISER_BETA: Final = 8.6
_BLOCK: Final = 8192
"""Output samples computed per vectorised step (bounds the temporary arrays)."""

_PCM: Final = 0x0001
_FLOAT: Final = 0x0003
_EXTENSIBLE: Final = 0xFFFE
_PLACEHOLDER_SIZE: Final = 0x7FFF0000
"""Streaming writers (espeak-ng --stdout, ffmpeg to a pipe) put a huge size in the header."""
_CODEC_NAMES: Final = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM"}


class Resampler:
    """Converts a stream of samples from `rate_in` to `rate_out`, chunk by chunk."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {rate_in} and {rate_out}")
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self._weights, self._half = _kernel_table(self.up, self.down)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next input starts a new one (preceded by silence)."""
        self._buf = np.zeros(self._half, dtype=np.float64)
        self._buf_start = -self._half
        self._next = 0
        self._total_in = 0

    @property
    def identity(self) -> bool:
        return self.up == self.down

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Feed input samples (any scale); returns the output samples now computable (float64)."""
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        if self.identity:
            return x
        self._total_in += len(x)
        self._buf = np.concatenate([self._buf, x])
        end = self._buf_start + len(self._buf)
        return self._compute(((end - self._half) * self.up - 1) // self.down)

    def flush(self) -> np.ndarray:
        """The remaining output, as if the input were followed by silence; then resets."""
        if self.identity:
            return np.zeros(0, dtype=np.float64)
        self._buf = np.concatenate([self._buf, np.zeros(self._half + 1)])
        total_out = -(-self._total_in * self.up // self.down)
        out = self._compute(total_out - 1)
        self.reset()
        return out

    def _compute(self, last: int) -> np.ndarray:
        """Output samples `self._next` .. `last` (inclusive), then drop input no longer needed."""
        parts = []
        offsets = np.arange(-self._half + 1, self._half + 1)
        for first in range(self._next, last + 1, _BLOCK):
            ns = np.arange(first, min(first + _BLOCK, last + 1), dtype=np.int64)
            base = ns * self.down // self.up
            phase = ns * self.down % self.up
            window = self._buf[(base - self._buf_start)[:, None] + offsets]
            parts.append(np.einsum("nk,nk->n", window, self._weights[phase]))
        self._next = max(self._next, last + 1)
        keep_from = self._next * self.down // self.up - self._half + 1
        drop = max(0, keep_from - self._buf_start)
        self._buf, self._buf_start = self._buf[drop:], self._buf_start + drop
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def _kernel_table(up: int, down: int) -> tuple[np.ndarray, int]:
    """Weights `[phase, tap]` for each of the `up` fractional positions, and the half-width."""
    cutoff = 0.5 * min(1.0, up / down) * ROLLOFF  # cycles per input sample
    width = ZERO_CROSSINGS / (2.0 * cutoff)  # input samples either side
    half = math.ceil(width)
    taps = np.arange(-half + 1, half + 1, dtype=np.float64)
    x = taps[None, :] - (np.arange(up, dtype=np.float64) / up)[:, None]
    ratio = np.clip(x / width, -1.0, 1.0)
    window = np.i0(KAISER_BETA * np.sqrt(1.0 - ratio**2)) / np.i0(KAISER_BETA)
    weights = 2.0 * cutoff * np.sinc(2.0 * cutoff * x) * window
    weights /= weights.sum(axis=1, keepdims=True)
    return weights, half


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """The whole of `samples` at `rate_out` (float64, same scale as the input)."""
    if rate_in == rate_out:
        return np.asarray(samples, dtype=np.float64)
    resampler = Resampler(rate_in, rate_out)
    return np.concatenate([resampler.process(samples), resampler.flush()])


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Round and clip samples already in int16 scale."""
    out: np.ndarray = np.clip(np.rint(samples), -32768, 32767).astype(np.int16)
    return out


@dataclass(frozen=True)
class WavFormat:
    rate: int
    channels: int
    bits: int
    is_float: bool


def read_wav(path: str | Path) -> np.ndarray:
    """The audio of the WAV file at `path` as 16 kHz mono int16."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as err:
        raise AudioError(f"audio file not found: {name}") from err
    except IsADirectoryError as err:
        raise AudioError(f"{name}: is a directory, not a WAV file") from err
    except OSError as err:
        raise AudioError(f"cannot read audio file {name}: {err.strerror or err}") from err
    return decode_wav(data, name)


def decode_wav(data: bytes, name: str = "<wav>") -> np.ndarray:
    """WAV file contents → 16 kHz mono int16; `name` is used in error messages."""
    fmt, payload = parse_wav(data, name)
    frames = _frames(fmt, payload)
    if frames.shape[0] == 0:
        raise AudioError(f"{name}: the WAV file contains no audio samples")
    if fmt.channels == 1 and fmt.bits == 16 and not fmt.is_float and fmt.rate == RATE:
        return frames[:, 0].astype(np.int16)
    mono = frames.mean(axis=1) if fmt.channels > 1 else frames[:, 0]
    return to_int16(resample(mono, fmt.rate, RATE))


def parse_wav(data: bytes, name: str) -> tuple[WavFormat, bytes]:
    """The format and the raw sample bytes (whole frames only) of a RIFF/WAVE file."""
    if not data:
        raise AudioError(f"{name}: empty file (0 bytes), not a WAV file")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        kind = "an RF64 file (not supported)" if data[:4] == b"RF64" else "not a WAV file"
        raise AudioError(f"{name}: {kind} (no RIFF/WAVE header)")
    fmt: WavFormat | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(data[body : body + size], name)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{name}: invalid WAV file: data chunk before the fmt chunk")
            return fmt, _data_payload(data, body, size, fmt, name)
        pos = body + size + (size & 1)
    missing = "fmt" if fmt is None else "data"
    raise AudioError(f"{name}: truncated or invalid WAV file: no {missing} chunk found")


def _data_payload(data: bytes, body: int, size: int, fmt: WavFormat, name: str) -> bytes:
    available = len(data) - body
    if size > available:
        if size < _PLACEHOLDER_SIZE:
            raise AudioError(
                f"{name}: truncated WAV file: the header promises {size} bytes of audio, "
                f"the file holds {available}"
            )
        size = available
    block = fmt.channels * (fmt.bits // 8)
    whole = size - size % block
    if whole != size:
        log.warning("%s: ignoring a partial frame at the end (%d bytes)", name, size - whole)
    return data[body : body + whole]


def _parse_fmt(body: bytes, name: str) -> WavFormat:
    if len(body) < 16:
        raise AudioError(
            f"{name}: truncated or invalid WAV file: fmt chunk is {len(body)} bytes, expected 16+"
        )
    code, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if code == _EXTENSIBLE and len(body) >= 26:
        code = struct.unpack_from("<H", body, 24)[0]
    if code not in (_PCM, _FLOAT):
        codec = _CODEC_NAMES.get(code, f"format code 0x{code:04x}")
        raise AudioError(
            f"{name}: unsupported WAV encoding ({codec}); convert it to PCM, "
            f"e.g. `ffmpeg -i {name} -ar 16000 -ac 1 out.wav`"
        )
    is_float = code == _FLOAT
    allowed = (32, 64) if is_float else (8, 16, 24, 32)
    if bits not in allowed:
        kind = "float" if is_float else "PCM"
        raise AudioError(f"{name}: unsupported {bits}-bit {kind} WAV (supported: {allowed})")
    if channels == 0 or rate == 0:
        raise AudioError(f"{name}: invalid WAV header: {channels} channels at {rate} Hz")
    return WavFormat(rate=rate, channels=channels, bits=bits, is_float=is_float)


def _frames(fmt: WavFormat, payload: bytes) -> np.ndarray:
    """Samples as float64 in int16 scale, shape (frames, channels)."""
    if fmt.is_float:
        dtype = np.dtype("<f4") if fmt.bits == 32 else np.dtype("<f8")
        values = np.frombuffer(payload, dtype=dtype).astype(np.float64) * 32768.0
    elif fmt.bits == 8:
        values = (np.frombuffer(payload, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif fmt.bits == 16:
        values = np.frombuffer(payload, dtype="<i2").astype(np.float64)
    elif fmt.bits == 24:
        raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        values = ((joined << 8) >> 8).astype(np.float64) / 256.0
    else:
        values = np.frombuffer(payload, dtype="<i4").astype(np.float64) / 65536.0
    return values.reshape(-1, fmt.channels)


def write_wav(path: str | Path, audio: np.ndarray, rate: int = RATE) -> None:
    """Write int16 `audio` (1-D mono, or 2-D frames x channels) as a 16-bit PCM WAV file."""
    samples = np.asarray(audio)
    if samples.dtype != np.int16:
        raise ValueError(f"write_wav expects int16 samples, got {samples.dtype}")
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(channels)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(samples.astype("<i2").tobytes())
    except OSError as err:
        raise AudioError(f"cannot write WAV file {path}: {err.strerror or err}") from err
