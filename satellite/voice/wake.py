"""Wake-word detection, whatever the engine: every model scores every 80 ms frame, and one
utterance wakes once (the refractory period).

An engine runs its own audio front end once per frame for all of its models and gives one score
per model: openWakeWord (`wake_oww`: ONNX, a shared embedding every 80 ms) or microWakeWord
(`wake_micro`: TensorFlow Lite streaming models on 10 ms features). Several engines may run side
by side. The detector keeps each model's last `RECENT` scores, from which the listener finds
where the wake phrase ended (`frames_since_rise`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np

from satellite.errors import ModelError
from satellite.events import WakeEvent

FRAME: Final = 1280
"""Samples per wake frame (80 ms at 16 kHz)."""
RATE: Final = 16000
RECENT: Final = 9
"""Scores kept per model (0.72 s): the wake decision comes at most 0.5 s after the phrase."""


@dataclass(frozen=True)
class WakeModelInfo:
    """What the detector needs to know of one model."""

    name: str
    """The name wake events carry."""
    threshold: float
    rise: float
    """The fraction of `threshold` at which the score has just taken in the whole phrase (per
    engine, measured: docs/LISTENING.md)."""


class WakeEngine(Protocol):
    """One engine running one or more models on the same audio."""

    @property
    def models(self) -> Sequence[WakeModelInfo]: ...

    def scores(self, frame: np.ndarray) -> Sequence[float]:
        """One score per model (in `models` order) for one 1280-sample int16 frame."""
        ...

    def reset(self) -> None:
        """Forget all audio."""
        ...


class WakeDetector:
    """Scores every frame with every model; wakes once per utterance (refractory period)."""

    def __init__(self, engines: Sequence[WakeEngine], refractory: float) -> None:
        self.engines = list(engines)
        self.models = [info for engine in self.engines for info in engine.models]
        if not self.models:
            raise ModelError("no wake-word model configured")
        self._refractory_frames = round(refractory * RATE / FRAME)
        self._frames = 0
        self._quiet_until = 0
        self.scores: dict[str, float] = {}
        self._recent = {m.name: deque[float](maxlen=RECENT) for m in self.models}

    def reset(self) -> None:
        for engine in self.engines:
            engine.reset()
        for recent in self._recent.values():
            recent.clear()

    def process(self, frame: np.ndarray, t: float) -> WakeEvent | None:
        """Feed one frame ending at `t` seconds; return a wake event when a model fires."""
        self._frames += 1
        best: WakeEvent | None = None
        for engine in self.engines:
            for info, score in zip(engine.models, engine.scores(frame), strict=True):
                self.scores[info.name] = score
                self._recent[info.name].append(score)
                if score >= info.threshold and (best is None or score > best.score):
                    best = WakeEvent(t=t, model=info.name, score=round(score, 4))
        if best is None or self._frames < self._quiet_until:
            return None
        self._quiet_until = self._frames + self._refractory_frames
        return best

    def frames_since_rise(self, name: str) -> int:
        """How many frames before the newest one model `name`'s score rose to its engine's
        `rise` fraction of its threshold: the earliest of the recent frames at that level (0:
        the newest frame).

        A window scores that much once it holds the whole wake phrase, while the decision
        itself comes later; so the phrase ended within that frame.
        """
        recent = self._recent[name]
        info = next(m for m in self.models if m.name == name)
        level = info.rise * info.threshold
        first = next((i for i, score in enumerate(recent) if score >= level), len(recent) - 1)
        return max(0, len(recent) - 1 - first)

    def suppress(self, seconds: float) -> None:
        """Ignore wakes for the next `seconds` (e.g. while our own speech plays)."""
        self._quiet_until = max(self._quiet_until, self._frames + round(seconds * RATE / FRAME))
