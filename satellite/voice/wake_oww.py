"""openWakeWord's ONNX models, run directly on onnxruntime.

The openWakeWord pipeline, per 80 ms frame (1280 samples at 16 kHz):
1. `melspectrogram.onnx` turns the newest audio (plus 480 samples of overlap) into 8 frames of
   32 mel bands, rescaled as `x / 10 + 2`;
2. `embedding_model.onnx` turns the newest 76 mel frames into one 96-value embedding;
3. each wake model scores its last N embeddings (N from its input shape, 16 for hey_jarvis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from satellite.errors import ModelError
from satellite.models.onnx import open_session
from satellite.voice.wake import WakeModelInfo

_MEL_OVERLAP: Final = 480
_MEL_WINDOW: Final = 76
_MEL_BANDS: Final = 32
_EMBEDDING: Final = 96
_HISTORY: Final = 32
"""Embeddings kept: enough for any wake model's window."""
RISE: Final = 0.2
"""A score of this fraction of the threshold means the window has just taken in the whole phrase
(measured: docs/LISTENING.md)."""
THRESHOLD: Final = 0.5
"""The threshold when the configuration sets none."""


@dataclass(frozen=True)
class OwwModelSpec:
    name: str
    path: Path
    threshold: float = THRESHOLD


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

    def __init__(self, spec: OwwModelSpec) -> None:
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


class OpenWakeWord:
    """The engine: the shared features once per frame, then each classifier."""

    def __init__(self, features: WakeFeatures, models: Sequence[WakeModel]) -> None:
        self.features = features
        self._models = list(models)
        self.models = tuple(
            WakeModelInfo(m.spec.name, m.spec.threshold, RISE) for m in self._models
        )

    def scores(self, frame: np.ndarray) -> list[float]:
        self.features.update(frame)
        return [model.score(self.features.embeddings) for model in self._models]

    def reset(self) -> None:
        self.features.reset()


def load_openwakeword(
    specs: Sequence[OwwModelSpec], melspectrogram: Path, embedding: Path
) -> OpenWakeWord:
    """Load the shared feature models and each wake model once."""
    features = WakeFeatures(melspectrogram, embedding)
    return OpenWakeWord(features, [WakeModel(s) for s in specs])
