"""Test speech in two voice families, cached on disk: espeak-ng, and the neural Piper voice
`en_US-joe-medium` spoken through the satellite's own `PiperTts`.

Both are deterministic: espeak-ng by nature; Piper samples noise inside its ONNX graph, so every
phrase is spoken by a freshly opened voice after `onnxruntime.set_seed` (one thread), which makes
two syntheses of the same phrase identical to the sample (tests/test_recognition_corpus.py
checks it). Audio is 16 kHz int16 with leading and trailing silence trimmed, and is kept under
`$XDG_CACHE_HOME/satellite/test-speech/` keyed by the text, the voice, its settings, the
synthesiser's version and `CODE_VERSION` (raise it when the synthesis here changes).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from tests.speech import RATE, require_espeak
from tests.speech import speak as espeak_speak

CODE_VERSION: Final = 1
PIPER_MODEL: Final = "piper_joe_medium"
"""The manifest entry of the Piper voice the tests speak with."""
PIPER_SEED: Final = 20261201
ESPEAK_VOICES: Final = ("en-us", "en-us+m3", "en-us+f3", "en+m7", "en-gb")
PIPER_SCALES: Final = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)

Family = Literal["espeak", "piper"]


@dataclass(frozen=True)
class Voice:
    """One way of speaking: espeak-ng `name` at `rate` words per minute, or the Piper voice
    (`name` is the manifest entry) at `rate` = length_scale (above 1 is slower)."""

    family: Family
    name: str
    rate: float

    def __str__(self) -> str:
        unit = " wpm" if self.family == "espeak" else "x"
        return f"{self.family}:{self.name}@{self.rate:g}{unit}"


def espeak(name: str, wpm: int) -> Voice:
    return Voice("espeak", name, float(wpm))


def piper(length_scale: float) -> Voice:
    return Voice("piper", PIPER_MODEL, length_scale)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "satellite" / "test-speech"


class Speaker:
    """Speaks text in any `Voice`, from the cache when it can. `models_dir` holds (or receives,
    through the model manager) the Piper voice; it is opened only when Piper speech is missing
    from the cache."""

    def __init__(self, models_dir: Path | str, cache: Path | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.cache = cache or cache_dir()
        self.synthesised = 0
        """Phrases synthesised by this speaker (the rest came from the cache)."""

    def speak(self, text: str, voice: Voice) -> np.ndarray:
        path = self.cache / f"{self._key(text, voice)}.npy"
        if path.is_file():
            try:
                cached: np.ndarray = np.load(path, allow_pickle=False)
                return cached
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # a damaged entry is synthesised again
        audio = self._synthesise(text, voice)
        self.synthesised += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        with part.open("wb") as out:
            np.save(out, audio, allow_pickle=False)
        part.replace(path)
        return audio

    def _key(self, text: str, voice: Voice) -> str:
        what = {
            "text": text,
            "voice": [voice.family, voice.name, voice.rate],
            "engine": _espeak_version() if voice.family == "espeak" else self._piper_identity,
            "code": CODE_VERSION,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]

    def _synthesise(self, text: str, voice: Voice) -> np.ndarray:
        if voice.family == "espeak":
            return espeak_speak(text, voice.name, int(voice.rate)).copy()
        return _trim(_piper_speak(self._piper_model, text, voice.rate))

    @functools.cached_property
    def _piper_model(self) -> Path:
        """The voice model, pulled (if missing) and verified by the model manager."""
        from satellite.models.locate import open_store

        store = open_store(str(self.models_dir))
        store.pull([PIPER_MODEL])
        problems = store.verify([PIPER_MODEL])
        if problems:
            raise RuntimeError(f"the Piper test voice is not usable: {problems}")
        return self.models_dir / store.manifest.model(PIPER_MODEL).files[0].path

    @functools.cached_property
    def _piper_identity(self) -> str:
        """piper-tts and onnxruntime versions and the voice's sha256 as the manifest states it
        (keying needs no 63 MB read, nor the voice to be present)."""
        from importlib.metadata import version

        from satellite.models.locate import open_store

        manifest = open_store(str(self.models_dir)).manifest
        sha = manifest.model(PIPER_MODEL).files[0].sha256
        return f"piper-tts {version('piper-tts')} onnxruntime {version('onnxruntime')} {sha}"


@functools.lru_cache(maxsize=1)
def _espeak_version() -> str:
    done = subprocess.run([require_espeak(), "--version"], capture_output=True, text=True)
    return done.stdout.strip()


def _piper_speak(model: Path, text: str, length_scale: float) -> np.ndarray:
    """One phrase from a freshly seeded, freshly opened voice (its noise is then reproducible)."""
    import onnxruntime

    from satellite.tts.piper import PiperConfig, PiperTts

    onnxruntime.set_seed(PIPER_SEED)
    tts = PiperTts(model, settings=PiperConfig(length_scale=length_scale, threads=1))
    chunks = list(tts.synthesize(text))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


def _trim(audio: np.ndarray, level: int = 200) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > level)
    return audio[loud[0] : loud[-1] + 1].copy() if len(loud) else audio[:0].copy()


__all__ = ["ESPEAK_VOICES", "PIPER_SCALES", "RATE", "Speaker", "Voice", "espeak", "piper"]
