"""Typed pipeline events. Each serialises itself with `to_dict()`; nobody builds ad-hoc dicts.

Every event carries `t`: seconds of audio into the current source (a file for `replay`, the
stream since start for `run`), and the dict form always has `"type"`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    t: float
    """Seconds into the audio source at which the event happened."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            if f.metadata.get("internal"):
                continue
            value = getattr(self, f.name)
            out[f.name] = round(value, 3) if isinstance(value, float) else value
        return out


@dataclass(frozen=True)
class WakeEvent(Event):
    type: ClassVar[str] = "wake"
    model: str
    score: float


@dataclass(frozen=True)
class UtteranceEvent(Event):
    """A segment of speech after the wake word, from `start` to `end` seconds."""

    type: ClassVar[str] = "utterance"
    start: float
    end: float
    reason: str
    """Why the segment ended: `silence`, `max_length` or `end_of_input`."""
    audio: np.ndarray = field(repr=False, compare=False, metadata={"internal": True})


@dataclass(frozen=True)
class NoSpeechEvent(Event):
    """The wake word was heard but no speech followed in time."""

    type: ClassVar[str] = "no_speech"


@dataclass(frozen=True)
class StateEvent(Event):
    type: ClassVar[str] = "state"
    state: str
    previous: str


@dataclass(frozen=True)
class ErrorEvent(Event):
    type: ClassVar[str] = "error"
    message: str
