"""Wake-word detection with openWakeWord's ONNX models, run directly on onnxruntime.

The openWakeWord pipeline, per 80 ms frame (1280 samples at 16 kHz):
1. `melspectrogram.onnx` turns the newest audio (plus 480 samples of overlap) into 8 frames of
   32 mel bands, rescaled as `x / 10 + 2`;
2. `embedding_model.onnx` turns the newest 76 mel frames into one 96-value embedding;
3. each wake model scores its last N embeddings (N from its input shape, 16 for hey_jarvis).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from satellite.errors import ModelError
from satellite.events import WakeEvent
from satellite.models.onnx import open_session

FRAME: Final = 1280
"""Samples per wake frame (80 ms at 16 kHz)."""
RATE: Final = 16000
_MEL_OVERLAP: Final = 480
_MEL_WINDOW: Final = 76
_MEL_BANDS: Final = 32
_EMBEDDING: Final = 96
_HISTORY: Final = 32
"""Embeddings kept: enough for any wake model's window."""
RECENT: Final = 9
"""Scores kept per model (0.72 s): the wake decision comes at most 0.5 s after the phrase."""
RISE: Final = 0.2
"""A score of this fraction of the threshold means the window has just taken in the whole phrase
(measured: docs/LISTENING.md)."""


@dataclass(frozen=True)
class WakeModelSpec:
    name: str
    path: Path
    threshold: float


class WakeFeatures:
    """Streaming mel-spectrogram and embeddings shared by every wake model."""

    def __init__(self, melspectrogram: Path, embedding: Path) -> None:
        self._mel = open_session(melspectrogram)
        self._embed = open_session(embedding)
        self._mel_in = self._mel.get_inputs()[0].name
        self._embed_in = self._embed.get_inputs()[0].name
        self.reset()

    def reset(self) -> None:
        """Forget all audio: the buffers hold what silence would have produced."""
        self._tail = np.zeros(_MEL_OVERLAP, dtype=np.float32)
        self._mels = np.ones((_MEL_WINDOW, _MEL_BANDS), dtype=np.float32)
        silence = self._embed_window(self._mels)
        self.embeddings = np.tile(silence, (_HISTORY, 1))

    def update(self, frame: np.ndarray) -> None:
        """Add one 1280-sample int16 frame."""
        audio = np.concatenate([self._tail, frame.astype(np.float32)])
        self._tail = audio[-_MEL_OVERLAP:]
        (mel,) = self._mel.run(None, {self._mel_in: audio[None, :]})
        mel = np.squeeze(mel).reshape(-1, _MEL_BANDS) / 10.0 + 2.0
        self._mels = np.concatenate([self._mels, mel])[-_MEL_WINDOW:]
        embedding = self._embed_window(self._mels)
        self.embeddings = np.concatenate([self.embeddings[1:], embedding[None, :]])

    def _embed_window(self, mels: np.ndarray) -> np.ndarray:
        (out,) = self._embed.run(None, {self._embed_in: mels[None, :, :, None]})
        return np.asarray(out, dtype=np.float32).reshape(_EMBEDDING)


class WakeModel:
    """One wake-word classifier over the last N embeddings."""

    def __init__(self, spec: WakeModelSpec) -> None:
        self.spec = spec
        self._session = open_session(spec.path)
        inp = self._session.get_inputs()[0]
        self._input = inp.name
        shape = inp.shape
        if len(shape) != 3 or shape[2] != _EMBEDDING or not isinstance(shape[1], int):
            raise ModelError(
                f"{spec.path} is not an openWakeWord classifier "
                f"(input shape {shape}, expected [1, N, {_EMBEDDING}])"
            )
        self.frames: int = min(int(shape[1]), _HISTORY)

    def score(self, embeddings: np.ndarray) -> float:
        window = embeddings[-self.frames :][None, :, :]
        (out,) = self._session.run(None, {self._input: window})
        return float(np.asarray(out).reshape(-1)[0])


class WakeDetector:
    """Scores every frame with every model; wakes once per utterance (refractory period)."""

    def __init__(
        self,
        features: WakeFeatures,
        models: Sequence[WakeModel],
        refractory: float,
    ) -> None:
        if not models:
            raise ModelError("no wake-word model configured")
        self.features = features
        self.models = list(models)
        self._refractory_frames = round(refractory * RATE / FRAME)
        self._frames = 0
        self._quiet_until = 0
        self.scores: dict[str, float] = {}
        self._recent = {m.spec.name: deque[float](maxlen=RECENT) for m in self.models}

    def reset(self) -> None:
        self.features.reset()
        for recent in self._recent.values():
            recent.clear()

    def process(self, frame: np.ndarray, t: float) -> WakeEvent | None:
        """Feed one frame ending at `t` seconds; return a wake event when a model fires."""
        self._frames += 1
        self.features.update(frame)
        best: WakeEvent | None = None
        for model in self.models:
            score = model.score(self.features.embeddings)
            self.scores[model.spec.name] = score
            self._recent[model.spec.name].append(score)
            if score >= model.spec.threshold and (best is None or score > best.score):
                best = WakeEvent(t=t, model=model.spec.name, score=round(score, 4))
        if best is None or self._frames < self._quiet_until:
            return None
        self._quiet_until = self._frames + self._refractory_frames
        return best

    def frames_since_rise(self, name: str) -> int:
        """How many frames before the newest one model `name`'s score rose to `RISE` of its
        threshold: the earliest of the recent frames at that level (0: the newest frame).

        A window scores that much once it holds the whole wake phrase, while the decision
        itself comes 0.1-0.5 s later; so the phrase ended within that frame.
        """
        recent = self._recent[name]
        level = RISE * next(m.spec.threshold for m in self.models if m.spec.name == name)
        first = next((i for i, score in enumerate(recent) if score >= level), len(recent) - 1)
        return max(0, len(recent) - 1 - first)

    def suppress(self, seconds: float) -> None:
        """Ignore wakes for the next `seconds` (e.g. while our own speech plays)."""
        self._quiet_until = max(self._quiet_until, self._frames + round(seconds * RATE / FRAME))


def load_detector(
    specs: Sequence[WakeModelSpec], mel: Path, embedding: Path, refractory: float
) -> WakeDetector:
    """Load the shared feature models and each wake model once."""
    features = WakeFeatures(mel, embedding)
    return WakeDetector(features, [WakeModel(s) for s in specs], refractory)
