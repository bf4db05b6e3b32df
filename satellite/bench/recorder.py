"""What one turn did, as seen on the bus: the events and when (monotonic) they passed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from satellite.events import (
    Event,
    IntentEvent,
    ReplyEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
    WakeEvent,
)


@dataclass
class TurnRecord:
    """The events of one turn (the first of each kind)."""

    wake: WakeEvent | None = None
    utterance: UtteranceEvent | None = None
    transcript: str = ""
    intent: IntentEvent | None = None
    intent_at: float | None = None
    """Monotonic time at which the intent event went through the bus (and to the publisher)."""
    reply_source: str = ""
    """Who made the reply: `skill`, `llm`, `error` (empty: no reply)."""
    timings: TimingsEvent | None = None
    tts_total_ms: float | None = None
    wakes: int = 0
    intents: int = 0
    extra: list[str] = field(default_factory=list)
    """Types of events after the first turn's timings (a second turn in the same take)."""

    @property
    def outcome(self) -> str | None:
        """The intent's name, `(llm)` for the language model's own reply, else None."""
        if self.intent is not None:
            return self.intent.name
        return "(llm)" if self.reply_source == "llm" else None


class Recorder:
    """A bus subscriber; `start()` begins a new record."""

    def __init__(self) -> None:
        self.record = TurnRecord()

    def start(self) -> TurnRecord:
        self.record = TurnRecord()
        return self.record

    def __call__(self, event: Event) -> None:
        r = self.record
        if r.timings is not None:
            r.extra.append(event.type)
        elif isinstance(event, WakeEvent):
            r.wakes += 1
            r.wake = r.wake or event
        elif isinstance(event, UtteranceEvent) and r.utterance is None:
            r.utterance = event
        elif isinstance(event, TranscriptEvent):
            r.transcript = event.text
        elif isinstance(event, IntentEvent):
            r.intents += 1
            if r.intent is None:
                r.intent, r.intent_at = event, time.monotonic()
        elif isinstance(event, ReplyEvent):
            r.reply_source = r.reply_source or event.source
        elif isinstance(event, TimingsEvent):
            r.timings = event
            r.tts_total_ms = event.tts_total_ms
