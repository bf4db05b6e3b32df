"""Human speech for the corpus: the recordings shipped in the moonshine-voice wheel (MIT),
fetched by the model manager as the `test_audio` entry `moonshine_voice_recordings`.

They are cut at pauses into segments of at most ten seconds (the satellite cuts utterances at
twelve). The texts are what the recordings say, for reading the report; nothing scores them.
"""

from __future__ import annotations

import functools
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from tests.speech import RATE, _resample

RECORDINGS: Final = "moonshine_voice_recordings"


@dataclass(frozen=True)
class Segment:
    name: str
    file: str
    """Base name of the recording."""
    start: float
    end: float
    text: str
    with_wake: bool = False
    """Also used after a synthetic "hey jarvis", as an out-of-grammar request in a human voice."""


SEGMENTS: Final = (
    Segment(
        "beckett",
        "beckett.wav",
        0.0,
        10.0,
        "ever tried, ever failed, no matter, try again, fail again, fail better",
        True,
    ),
    Segment(
        "clone_test", "clone-test.wav", 0.0, 4.2, "i do, i think that america do it very well", True
    ),
    Segment(
        "endgame_1", "endgame_nagg_nell.wav", 0.0, 8.3, "do you hear me? yes. do you hear me?", True
    ),
    Segment("endgame_2", "endgame_nagg_nell.wav", 8.3, 14.2, "we laugh less heartily"),
    Segment("endgame_3", "endgame_nagg_nell.wav", 14.2, 19.5, "that's a good story"),
    Segment("endgame_4", "endgame_nagg_nell.wav", 19.5, 28.3, "you remember the day i fetched you"),
    Segment(
        "two_cities_1",
        "two_cities.wav",
        0.0,
        8.4,
        "it was the best of times, it was the worst",
        True,
    ),
    Segment("two_cities_2", "two_cities.wav", 8.4, 17.0, "it was the epoch of belief"),
    Segment("two_cities_3", "two_cities.wav", 17.0, 24.2, "it was the spring of hope"),
    Segment("two_cities_4", "two_cities.wav", 24.2, 32.4, "we were all going direct to heaven"),
    Segment("two_cities_5", "two_cities.wav", 32.4, 42.2, "some of its noisiest authorities"),
)


def human_segments() -> tuple[Segment, ...]:
    return SEGMENTS


class Recordings:
    """The recordings, pulled (if missing) and verified by the model manager on first use."""

    def __init__(self, models_dir: Path | str) -> None:
        self.models_dir = Path(models_dir)
        self._loaded: dict[str, np.ndarray] = {}

    @functools.cached_property
    def folder(self) -> Path:
        from satellite.models.locate import open_store

        store = open_store(str(self.models_dir))
        store.pull([RECORDINGS])
        problems = store.verify([RECORDINGS])
        if problems:
            raise RuntimeError(f"the test recordings are not usable: {problems}")
        first = store.manifest.model(RECORDINGS).files[0].path
        return (self.models_dir / first).parent

    def load(self, file: str) -> np.ndarray:
        """A whole recording, 16 kHz mono int16."""
        if file not in self._loaded:
            self._loaded[file] = self._read(file)
        return self._loaded[file]

    def _read(self, file: str) -> np.ndarray:
        with wave.open(str(self.folder / file)) as w:
            rate, channels = w.getframerate(), w.getnchannels()
            audio = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if channels != 1:
            audio = audio.reshape(-1, channels).mean(axis=1).astype(np.int16)
        return _resample(audio, rate) if rate != RATE else audio.copy()

    def cut(self, segment: Segment) -> np.ndarray:
        audio = self.load(segment.file)
        return audio[round(segment.start * RATE) : round(segment.end * RATE)].copy()
