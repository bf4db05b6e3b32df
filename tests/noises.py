"""Noise for the corpus, deterministic from a seed: pink noise, babble, a cough, a click.

`mix` adds noise at a signal-to-noise ratio measured against the speech's active level (the
samples above the trimming threshold), over the whole take, pauses included.
"""

from __future__ import annotations

import numpy as np

from tests.voices import RATE


def pink(n: int, seed: int) -> np.ndarray:
    """1/f noise (power falls 3 dB per octave above 20 Hz), unit RMS."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    return noise / (float(np.sqrt(np.mean(noise**2))) or 1.0)


def babble(n: int, seed: int, talkers: tuple[np.ndarray, ...]) -> np.ndarray:
    """Several talkers at once, each from its own random point of its loop, unit RMS."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for talker in talkers:
        loop = np.tile(talker.astype(np.float64), n // len(talker) + 2)
        start = int(rng.integers(0, len(talker)))
        out += loop[start : start + n]
    return out / (float(np.sqrt(np.mean(out**2))) or 1.0)


def cough(seed: int) -> np.ndarray:
    """Two bursts of band-limited noise with a sharp attack and a quick decay (about 0.45 s)."""
    rng = np.random.default_rng(seed)
    parts = []
    for length, level in ((0.22, 12000.0), (0.16, 7000.0)):
        m = round(length * RATE)
        spectrum = np.fft.rfft(rng.standard_normal(m))
        freqs = np.fft.rfftfreq(m, 1 / RATE)
        spectrum[(freqs < 250) | (freqs > 3500)] = 0
        burst = np.fft.irfft(spectrum, m)
        burst /= float(np.max(np.abs(burst))) or 1.0
        t = np.arange(m) / RATE
        envelope = np.minimum(t / 0.012, 1.0) * np.exp(-t / 0.07)
        parts += [burst * envelope * level, np.zeros(round(0.07 * RATE))]
    out: np.ndarray = np.clip(np.concatenate(parts), -32768, 32767).astype(np.int16)
    return out


def click(seed: int) -> np.ndarray:
    """Two sharp clicks 40 ms apart (a tap on the table, a switch)."""
    rng = np.random.default_rng(seed)
    m = round(0.004 * RATE)
    one = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.0008 * RATE)) * 9000
    gap = np.zeros(round(0.04 * RATE))
    out: np.ndarray = np.clip(np.concatenate([one, gap, one * 0.7]), -32768, 32767)
    return out.astype(np.int16)


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    active = speech[np.abs(speech) > 200].astype(np.float64)
    level = float(np.sqrt(np.mean(active**2))) if len(active) else 1000.0
    mixed = speech.astype(np.float64) + noise * level / 10 ** (snr_db / 20)
    return np.clip(mixed, -32768, 32767).astype(np.int16)
