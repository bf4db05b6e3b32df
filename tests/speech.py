"""Real test speech: espeak-ng speaks, and we know where every part starts and ends.

A `Take` is built from parts (text or silence); each spoken part is synthesised alone, its leading
and trailing silence trimmed, and the parts are joined, so the timing of every word group is
known to the sample. Background noise can be mixed in at a chosen signal-to-noise ratio.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000
VOICES = ("en-us", "en-us+m3", "en-us+f3", "en+m7", "en-gb")


def require_espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("these tests need espeak-ng: apt-get install espeak-ng")
    return exe


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    """Windowed-sinc-free but band-limited enough for speech: FFT resampling."""
    n_out = round(len(audio) * RATE / rate)
    spectrum = np.fft.rfft(audio.astype(np.float64))
    keep = n_out // 2 + 1
    out_spec = np.zeros(keep, dtype=complex)
    out_spec[: min(keep, len(spectrum))] = spectrum[: min(keep, len(spectrum))]
    out = np.fft.irfft(out_spec, n_out) * (n_out / len(audio))
    return np.clip(out, -32768, 32767).astype(np.int16)


@functools.lru_cache(maxsize=512)
def speak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """espeak-ng's voice, 16 kHz int16, leading and trailing silence trimmed."""
    raw = subprocess.run(
        [require_espeak(), "-v", voice, "-s", str(speed), "--stdout", "--", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(raw)) as w:
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    audio = _resample(audio, rate)
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > 200)
    return audio[loud[0] : loud[-1] + 1].copy() if len(loud) else audio[:0].copy()


@dataclass
class Take:
    """Audio assembled from parts, with the span (start, end seconds) of each spoken part."""

    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    spans: list[tuple[str, float, float]] = field(default_factory=list)

    def silence(self, seconds: float) -> Take:
        self.audio = np.concatenate([self.audio, np.zeros(round(seconds * RATE), np.int16)])
        return self

    def say(self, text: str, voice: str = "en-us", speed: int = 160) -> Take:
        start = len(self.audio) / RATE
        self.audio = np.concatenate([self.audio, speak(text, voice, speed)])
        self.spans.append((text, start, len(self.audio) / RATE))
        return self

    def span(self, text: str) -> tuple[float, float]:
        for spoken, start, end in self.spans:
            if spoken == text:
                return start, end
        raise KeyError(text)

    def with_noise(self, snr_db: float, seed: int = 0) -> Take:
        """Mix in pink-ish noise at `snr_db` below the speech's RMS."""
        rng = np.random.default_rng(seed)
        white = rng.standard_normal(len(self.audio))
        pink = np.cumsum(white) * 0.02 + white
        pink -= np.convolve(pink, np.ones(400) / 400, mode="same")
        speech = self.audio[np.abs(self.audio) > 200].astype(np.float64)
        rms = float(np.sqrt(np.mean(speech**2))) if len(speech) else 1000.0
        pink *= rms / (10 ** (snr_db / 20)) / float(np.sqrt(np.mean(pink**2)))
        mixed = self.audio.astype(np.float64) + pink
        self.audio = np.clip(mixed, -32768, 32767).astype(np.int16)
        return self

    def write(self, path: Path) -> Path:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(self.audio.tobytes())
        return path
