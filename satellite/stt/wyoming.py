"""A Wyoming speech-to-text server as the recogniser (`stt.engine: wyoming`).

Each utterance goes out as `transcribe`, `audio-start`, `audio-chunk`s (16 kHz, 16-bit, mono)
and `audio-stop`; the answer is a `transcript`. Its text is normalised as Moonshine's is (lower
case, no punctuation) so the skills' templates match it. A server that is our own `satellite
serve` also says whether its grammar recogniser rejected the speech and why (the `satellite`
key of the transcript's data); any other server's empty transcript is a rejection.

While the server cannot be reached, is slow (the response timeout) or fails, the local
recogniser (`stt.wyoming.fallback`) hears the utterance instead; without one the utterance
is rejected, and the turn says "Sorry, I didn't catch that".
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

import numpy as np
from wyoming.asr import Transcribe
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from satellite.remote.client import WyomingClient
from satellite.remote.connection import RemoteError
from satellite.stt import Transcript, mono_samples
from satellite.stt.moonshine import normalize
from satellite.stt.wyoming_config import WyomingSttConfig

log = logging.getLogger(__name__)

RATE: Final = 16000
CHUNK: Final = 4096
"""Samples per audio chunk sent (256 ms)."""
EXTRA_KEY: Final = "satellite"
"""Key of a transcript's data in which `satellite serve` adds what its recogniser decided."""


class LocalRecognizer(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...


class WyomingRecognizer(WyomingClient):
    """The remote recogniser, with the local one (if any) behind it; `tally` counts
    utterances."""

    def __init__(self, config: WyomingSttConfig, fallback: LocalRecognizer | None = None) -> None:
        super().__init__(config, "speech-to-text")
        self.config = config
        self.fallback = fallback

    def transcribe(self, audio: np.ndarray) -> Transcript:
        samples = mono_samples(audio)
        try:
            answer = self.link.request(request_events(samples, self.config.language), is_transcript)
        except RemoteError as err:
            return self._fall_back(samples, err)
        self.tally.remote += 1
        return read_transcript(answer[-1])

    def set_grammar(self, grammar: Any) -> None:
        """The skills changed: the fallback's grammar follows (the server has its own)."""
        set_grammar = getattr(self.fallback, "set_grammar", None)
        if set_grammar is not None:
            set_grammar(grammar)

    def _fall_back(self, samples: np.ndarray, err: RemoteError) -> Transcript:
        self.tally.fallback += 1
        if self.fallback is None:
            log.error("remote speech-to-text failed, and there is no local recogniser: %s", err)
            return Transcript("", 0.0, True, reason=f"the speech server failed: {err}")
        log.warning("remote speech-to-text failed, the local recogniser hears it: %s", err)
        return self.fallback.transcribe(samples)


def is_transcript(event: Event) -> bool:
    return WyomingTranscript.is_type(event.type)


def request_events(samples: np.ndarray, language: str = "") -> list[Event]:
    """A `transcribe` request for 16 kHz audio, as Wyoming events."""
    pcm = np.asarray(samples, dtype=np.int16).tobytes()
    step = CHUNK * 2
    chunks = [
        AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[i : i + step]).event()
        for i in range(0, len(pcm), step)
    ]
    return [
        Transcribe(language=language or None).event(),
        AudioStart(rate=RATE, width=2, channels=1).event(),
        *chunks,
        AudioStop().event(),
    ]


def read_transcript(event: Event) -> Transcript:
    """Our `Transcript` of a Wyoming `transcript` event."""
    text = normalize(str(WyomingTranscript.from_event(event).text or ""))
    extra = event.data.get(EXTRA_KEY)
    if isinstance(extra, dict):
        return Transcript(
            text=text,
            confidence=_number(extra.get("confidence"), 1.0 if text else 0.0),
            rejected=bool(extra.get("rejected", not text)),
            reason=str(extra.get("reason", "")),
            guess=str(extra.get("guess", "")),
        )
    if not text:
        return Transcript("", 0.0, True, reason="the speech server heard nothing")
    return Transcript(text, 1.0, False)


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(1.0, max(0.0, float(value)))
    return default
