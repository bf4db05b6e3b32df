"""Text to speech: an engine turns reply text into 16 kHz int16 audio, one sentence at a time.

Engines load once and stream: `synthesize(text)` yields each sentence's audio as soon as it is
ready, so playback of the first sentence starts while the rest are still being made.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

import numpy as np

from satellite.errors import SatelliteError
from satellite.tts.piper_config import PiperConfig
from satellite.tts.wyoming_config import WyomingTtsConfig

_VOICE: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_+/.-]*$")
_SENTENCE_END: Final = re.compile(r"[.!?\u2026]+[\"')\]\u201d\u2019]*\s+")
_ABBREVIATIONS: Final = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "fig",
        "mt",
        "ave",
    ]
)


class TtsError(SatelliteError):
    """The speech engine is missing, misconfigured or failed on a sentence."""


@dataclass(frozen=True)
class TtsConfig:
    engine: Literal["auto", "espeak", "piper", "wyoming"] = "auto"
    """The speech engine: `espeak` runs espeak-ng (`apt-get install espeak-ng`); `piper` is a
    Piper neural voice (`pip install 'satellite[full]'`); `wyoming` is a Wyoming speech
    server on another box (docs/REMOTE.md); `auto` is the one of `models.profile`."""
    voice: str = "en-us"
    """The engine's voice name (for espeak-ng see `espeak-ng --voices`, e.g. `en-us+f3`)."""
    rate: int = 170
    """Speaking rate in words per minute (80..450)."""
    executable: str = "espeak-ng"
    """The espeak-ng program, a name on PATH or a full path."""
    piper: PiperConfig = field(default_factory=PiperConfig)
    """Settings of the `piper` engine."""
    wyoming: WyomingTtsConfig = field(default_factory=WyomingTtsConfig)
    """Settings of the `wyoming` engine."""

    def __post_init__(self) -> None:
        if not _VOICE.match(self.voice):
            raise ValueError(f'voice: expected a voice name like "en-us", got "{self.voice}"')
        if not 80 <= self.rate <= 450:
            raise ValueError(f"rate: expected 80..450 words per minute, got {self.rate}")
        if not self.executable.strip():
            raise ValueError("executable: expected a program name or path, got an empty string")


class TtsEngine(Protocol):
    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """16 kHz mono int16 audio, one array per sentence (a long one may come in pieces)."""
        ...


def split_sentences(text: str) -> list[str]:
    """`text` cut into sentences at . ! ? … and line breaks; abbreviations and initials kept."""
    sentences: list[str] = []
    for line in re.split(r"\n\s*", text):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            if _is_abbreviation(line[start : match.start()], line[match.start()]):
                continue
            sentences.append(line[start : match.end()])
            start = match.end()
        sentences.append(line[start:])
    cleaned = (" ".join(s.split()) for s in sentences)
    return [s for s in cleaned if any(c.isalnum() for c in s)]


def _is_abbreviation(before: str, mark: str) -> bool:
    """Whether the full stop ending `before` belongs to an abbreviation or an initial."""
    if mark != ".":
        return False
    words = before.split()
    if not words:
        return False
    word = words[-1].lower().lstrip("(\"'")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())
