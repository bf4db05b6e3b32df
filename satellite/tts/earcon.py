"""Earcons: short, soft tones made with numpy, a rising one on wake and a falling one at the
end of listening (two notes a fourth apart, E5 and A5, about 150 ms in all), a chime before an
announcement (E5, A5, E6 rising, 225 ms) and a timer's ring (A5 E5 three times, 450 ms). Each
note has a quick raised-cosine attack, an exponential decay and a little second harmonic for
warmth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from satellite.audio.wavfile import RATE, to_int16

Kind = Literal["wake", "end", "announce", "ring"]
LOW: Final = 659.26
"""E5, in Hz."""
HIGH: Final = 880.0
"""A5, in Hz."""
TOP: Final = 1318.51
"""E6, in Hz."""
NOTES: Final[dict[str, tuple[float, ...]]] = {
    "wake": (LOW, HIGH),
    "end": (HIGH, LOW),
    "announce": (LOW, HIGH, TOP),
    "ring": (HIGH, LOW) * 3,
}
NOTE_SECONDS: Final = 0.075
ATTACK_SECONDS: Final = 0.006
PEAK: Final = 0.5 * 32767
"""Peak amplitude at volume 100 (-6 dBFS): leaves room for the speaker's own volume."""


@dataclass(frozen=True)
class EarconConfig:
    enabled: bool = True
    """Play a tone when the wake word is heard and when listening ends."""
    announce: bool = True
    """Play a chime before an announcement (an MQTT `say`); a timer that rings plays its ring
    whatever this says (only `enabled: false` silences every tone)."""
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
    """The `wake` (rising), `end` (falling), `announce` or `ring` tone as 16 kHz mono int16."""
    if not 0 <= volume <= 100:
        raise ValueError(f"volume: expected 0..100, got {volume}")
    tone = np.concatenate([_note(f) for f in NOTES[kind]])
    return to_int16(tone * PEAK * volume / 100.0)


def wake_tone(volume: int = 100) -> np.ndarray:
    return earcon("wake", volume)


def end_tone(volume: int = 100) -> np.ndarray:
    return earcon("end", volume)
