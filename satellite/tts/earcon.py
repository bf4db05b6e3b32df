"""Earcons: two short, soft tones made with numpy, a rising one on wake and a falling one at the
end of listening. Each is two notes a fourth apart (E5 and A5), about 150 ms in all, with a
quick raised-cosine attack, an exponential decay and a little second harmonic for warmth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from satellite.audio.wavfile import RATE, to_int16

Kind = Literal["wake", "end"]
LOW: Final = 659.26
"""E5, in Hz."""
HIGH: Final = 880.0
"""A5, in Hz."""
NOTE_SECONDS: Final = 0.075
ATTACK_SECONDS: Final = 0.006
PEAK: Final = 0.5 * 32767
"""Peak amplitude at volume 100 (-6 dBFS): leaves room for the speaker's own volume."""


@dataclass(frozen=True)
class EarconConfig:
    enabled: bool = True
    """Play a tone when the wake word is heard and when listening ends."""
    volume: int = 60
    """Loudness of the tones, 0..100, before the speaker volume."""

    def __post_init__(self) -> None:
        if not 0 <= self.volume <= 100:
            raise ValueError(f"volume: expected 0..100, got {self.volume}")


def _note(frequency: float) -> np.ndarray:
    t = np.arange(round(NOTE_SECONDS * RATE)) / RATE
    tone = np.sin(2 * np.pi * frequency * t) + 0.25 * np.sin(4 * np.pi * frequency * t)
    attack = min(len(t), round(ATTACK_SECONDS * RATE))
    envelope = np.exp(-t / (NOTE_SECONDS / 3))
    envelope[:attack] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    envelope[-attack:] *= np.linspace(1.0, 0.0, attack)
    out: np.ndarray = tone * envelope / 1.25
    return out


def earcon(kind: Kind, volume: int = 100) -> np.ndarray:
    """The `wake` (rising) or `end` (falling) tone as 16 kHz mono int16."""
    if not 0 <= volume <= 100:
        raise ValueError(f"volume: expected 0..100, got {volume}")
    first, second = (LOW, HIGH) if kind == "wake" else (HIGH, LOW)
    tone = np.concatenate([_note(first), _note(second)])
    return to_int16(tone * PEAK * volume / 100.0)


def wake_tone(volume: int = 100) -> np.ndarray:
    return earcon("wake", volume)


def end_tone(volume: int = 100) -> np.ndarray:
    return earcon("end", volume)
