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
    level: float = -120.0
    """How loud the wake phrase was, in dBFS (the 95th percentile of 20 ms RMS over the last
    1.5 s): the nearest satellite hears it loudest (`app/arbiter.py`)."""


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
class TranscriptEvent(Event):
    """What speech-to-text heard in the utterance."""

    type: ClassVar[str] = "transcript"
    text: str
    confidence: float
    """0..1; how sure the recogniser is that `text` is what was said."""


@dataclass(frozen=True)
class IntentEvent(Event):
    """The transcript was understood."""

    type: ClassVar[str] = "intent"
    name: str
    slots: dict[str, Any]
    """Slot name → value (numbers as numbers)."""
    text: str
    skill: str
    source: str = "template"
    """`template` (sentence templates) or `llm`."""


@dataclass(frozen=True)
class NotRecognizedEvent(Event):
    """Speech was heard but it is nothing the satellite knows how to do."""

    type: ClassVar[str] = "not_recognized"
    text: str
    reason: str


@dataclass(frozen=True)
class ReplyEvent(Event):
    """What the satellite says back."""

    type: ClassVar[str] = "reply"
    text: str
    source: str = "skill"
    """`skill`, `error`, `timer`, `say` or `llm`."""
    intent: str = ""
    expects_answer: bool = False
    """The reply asks something: the satellite listens again without the wake word."""


@dataclass(frozen=True)
class TimerEvent(Event):
    """A timer `started`, `cancelled`, `finished` (it ran out and rings) or `stopped` ringing."""

    type: ClassVar[str] = "timer"
    action: str
    id: str
    name: str
    """What the user called it, or empty."""
    seconds: float
    """The duration it was started with."""
    remaining: float
    """Seconds left (0 once finished)."""
    reason: str = ""
    """Why it stopped ringing: `wake`, `voice`, `command` (MQTT `stop`) or `timeout`."""


@dataclass(frozen=True)
class ArbitrationEvent(Event):
    """Satellites that heard the same wake word agreed on one to answer (`app/arbiter.py`)."""

    type: ClassVar[str] = "arbitration"
    winner: str
    """The site id that answers."""
    won: bool
    """This satellite answers; when False it has dropped the turn."""
    contenders: list[dict[str, Any]]
    """Each satellite that heard it: `site_id`, `level` (dBFS), `score`."""


@dataclass(frozen=True)
class TimingsEvent(Event):
    """Where the turn's time went, in milliseconds (wall clock; VAD tail in audio time)."""

    type: ClassVar[str] = "timings"
    vad_tail_ms: float
    stt_ms: float
    nlu_ms: float
    action_ms: float
    tts_first_audio_ms: float | None
    intent_ms: float | None
    """End-of-speech decision → intent published."""
    first_audio_ms: float | None
    """End-of-speech decision → first reply audio handed to the output."""
    tts_total_ms: float | None = None
    """Time spent synthesising the whole reply (every sentence; playback excluded)."""
    llm_first_token_ms: float | None = None
    """Language model: prompt sent → first token (None when no model ran: `lite` profile)."""
    llm_total_ms: float | None = None
    """Language model: prompt sent → last token (None when no model ran)."""
