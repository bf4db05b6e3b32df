"""microWakeWord's streaming models on TensorFlow Lite (`satellite.models.tflite`).

Per 80 ms frame (1280 samples at 16 kHz):
1. TFLite Micro's audio front end (`pymicro-features`: 30 ms windows every 10 ms, 40 filterbank
   channels with noise reduction, PCAN gain control and a log scale) takes the frame in eight
   10 ms steps, each handed over as one 320-byte copy of its slice of the frame, and gives eight
   rows of 40 features, shared by every model;
2. each model quantises the rows once (its input scale and zero point) and, every `stride` rows
   (3: 30 ms), runs one step of its streaming network, which keeps its own state between calls:
   one probability;
3. the model's score is the mean of its last `window` probabilities (its `sliding_window_size`,
   5: 150 ms); the frame's score is the highest mean reached during the frame.

A model is a `.json` description (`micro.probability_cutoff`, `micro.sliding_window_size`, the
`.tflite` file's name) and the `.tflite` beside it, as microWakeWord and ESPHome publish them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.errors import ModelError
from satellite.models.tflite import Interpreter, TfLite, TfLiteError
from satellite.voice.wake import FRAME, WakeModelInfo

STEP: Final = 160
"""Samples per feature row (10 ms)."""
FEATURES: Final = 40
ROWS: Final = FRAME // STEP
RISE: Final = 0.3
"""The fraction of the threshold that marks the rise: the mean of the window passes it in the
frame where the phrase ends (measured on Piper and espeak-ng takes, 0.1 to 0.5 give the same
boundaries within 150 ms but for okay_nabu at 0.1-0.2: docs/LISTENING.md)."""
MAX_WINDOW: Final = 100
_FRONTENDS: Final[list[object]] = []
"""Every front end made, never freed: pymicro-features 2.0.2 frees one with `PyErr_Clear()`,
which, when that happens while an exception unwinds (a model that fails to load after the
front end was made), swallows the exception and leaves a bare SystemError. One is made per
engine load, a few kilobytes."""


@dataclass(frozen=True)
class MicroModelFile:
    """What a model's `.json` says."""

    wake_word: str
    model: Path
    """The `.tflite` file."""
    cutoff: float
    window: int


@dataclass(frozen=True)
class MicroModelSpec:
    name: str
    model: Path
    threshold: float
    window: int


def read_model_json(path: Path) -> MicroModelFile:
    """Read a microWakeWord model description; a bad one raises `ModelError` naming the key."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ModelError(f"cannot read {path}: {err.strerror or err}") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path} is not a microWakeWord model description: {err}") from err
    micro = data.get("micro") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "micro" or not isinstance(micro, dict):
        raise ModelError(f"{path}: expected a microWakeWord description (type: micro, micro: {{}})")
    model = data.get("model")
    if not isinstance(model, str) or not model.endswith(".tflite"):
        raise ModelError(f"{path}: model: expected the name of a .tflite file, got {model!r}")
    step = micro.get("feature_step_size", 10)
    if step != 10:
        raise ModelError(f"{path}: micro.feature_step_size: only 10 (ms) is supported, got {step}")
    cutoff = micro.get("probability_cutoff")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 0 < cutoff < 1:
        raise ModelError(f"{path}: micro.probability_cutoff: expected 0..1, got {cutoff!r}")
    window = micro.get("sliding_window_size")
    if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_WINDOW:
        raise ModelError(
            f"{path}: micro.sliding_window_size: expected 1..{MAX_WINDOW}, got {window!r}"
        )
    wake_word = data.get("wake_word")
    return MicroModelFile(
        wake_word if isinstance(wake_word, str) else path.stem,
        path.parent / model,
        float(cutoff),
        window,
    )


class MicroFeatures:
    """The audio front end: eight rows of 40 features per 80 ms frame."""

    def __init__(self) -> None:
        try:
            from pymicro_features import MicroFrontend
        except ImportError as err:
            raise TfLiteError(
                f"microWakeWord's audio front end is not installed ({err}): "
                "pip install 'satellite[micro]'"
            ) from err
        self._frontend = MicroFrontend()
        _FRONTENDS.append(self._frontend)
        self._rows = np.zeros((ROWS, FEATURES), dtype=np.float64)
        """float64, as the training quantised them: float32 rounds some rows differently."""

    def update(self, frame: np.ndarray) -> np.ndarray:
        """The feature rows of one 1280-sample int16 frame (a view, valid until the next call;
        fewer than eight only while the first 30 ms window fills)."""
        n = 0
        for i in range(0, FRAME, STEP):
            features = self._frontend.process_samples(frame[i : i + STEP].tobytes()).features
            if features:
                self._rows[n] = features
                n += 1
        return self._rows[:n]

    def reset(self) -> None:
        self._frontend.reset()


class MicroModel:
    """One streaming model and its sliding window of probabilities."""

    def __init__(self, tflite: TfLite, spec: MicroModelSpec) -> None:
        self.spec = spec
        self._net = Interpreter(tflite, spec.model)
        shape, dtype = self._net.input.shape, self._net.input.dtype
        if len(shape) != 3 or shape[0] != 1 or shape[2] != FEATURES or dtype is np.float32:
            raise TfLiteError(
                f"{spec.model} is not a quantised microWakeWord streaming model "
                f"(input {shape} {dtype}, expected [1, stride, {FEATURES}] int8)"
            )
        if self._net.output.dtype is np.float32 or self._net.output.shape[-1:] != (1,):
            raise TfLiteError(f"{spec.model}: expected one quantised probability as output")
        self.stride = shape[1]
        self._input = np.zeros(shape, dtype)
        info = np.iinfo(np.int8 if dtype is np.int8 else np.uint8)
        self._limits = (info.min, info.max)
        self.reset()

    def reset(self) -> None:
        self._net.reset()
        self._filled = 0
        self._probabilities = deque([0.0] * self.spec.window, maxlen=self.spec.window)
        self._mean = 0.0

    def score(self, rows: np.ndarray) -> float:
        """Take in `rows`; the highest mean of the window during them (the last one if no
        step ran)."""
        inp = self._net.input
        quantised = np.clip(np.round(rows / inp.scale) + inp.zero_point, *self._limits)
        best = None
        for row in quantised:
            self._input[0, self._filled] = row
            self._filled += 1
            if self._filled == self.stride:
                self._filled = 0
                self._step()
                best = self._mean if best is None else max(best, self._mean)
        return self._mean if best is None else best

    def _step(self) -> None:
        out = self._net.output
        probability = (float(self._net.run(self._input).flat[0]) - out.zero_point) * out.scale
        self._probabilities.append(probability)
        self._mean = sum(self._probabilities) / self.spec.window


class MicroWakeWord:
    """The engine: the front end once per frame, then each model."""

    def __init__(self, features: MicroFeatures, models: Sequence[MicroModel]) -> None:
        self.features = features
        self._models = list(models)
        self.models = tuple(
            WakeModelInfo(m.spec.name, m.spec.threshold, RISE) for m in self._models
        )

    def scores(self, frame: np.ndarray) -> list[float]:
        rows = self.features.update(frame)
        return [model.score(rows) for model in self._models]

    def reset(self) -> None:
        self.features.reset()
        for model in self._models:
            model.reset()


def load_microwakeword(specs: Sequence[MicroModelSpec], tflite: TfLite) -> MicroWakeWord:
    """The front end and each model, loaded once."""
    return MicroWakeWord(MicroFeatures(), [MicroModel(tflite, s) for s in specs])
