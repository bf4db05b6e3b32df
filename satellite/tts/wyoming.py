"""A Wyoming speech server as the voice (`tts.engine: wyoming`).

Each sentence is one `synthesize` request; its answer (`audio-start`, `audio-chunk`s,
`audio-stop`, at the voice's own rate and format) is converted to 16 kHz mono int16 and yielded
as soon as the sentence is complete, so the first sentence plays while the next is made.

A sentence the server cannot say (unreachable, slower than the response timeout, killed
half-way, an error) is said by the local voice (`tts.wyoming.fallback`) instead, from its
start; so are the following ones while the server is left alone (`retry_after`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeVoice

from satellite.audio.wavfile import RATE, resample, to_int16
from satellite.remote.client import WyomingClient
from satellite.remote.connection import RemoteError
from satellite.tts import TtsEngine, TtsError, split_sentences
from satellite.tts.wyoming_config import WyomingTtsConfig

log = logging.getLogger(__name__)


class WyomingTts(WyomingClient):
    """The remote voice, with the local one (if any) behind it; `tally` counts sentences."""

    def __init__(self, config: WyomingTtsConfig, fallback: TtsEngine | None = None) -> None:
        super().__init__(config, "speech")
        self.config = config
        self.fallback = fallback

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        for sentence in split_sentences(text):
            try:
                answer = self.link.request([self._request(sentence)], _is_stop)
                audio = decode_audio(answer, self.config.uri)
            except RemoteError as err:
                yield from self._fall_back(sentence, err)
                continue
            self.tally.remote += 1
            if len(audio):
                yield audio

    def _request(self, sentence: str) -> Event:
        voice = SynthesizeVoice(name=self.config.voice) if self.config.voice else None
        return Synthesize(text=sentence, voice=voice).event()

    def _fall_back(self, sentence: str, err: RemoteError) -> Iterator[np.ndarray]:
        self.tally.fallback += 1
        if self.fallback is None:
            raise TtsError(f"the speech server failed and there is no local voice: {err}")
        log.warning("remote speech failed, the local voice says %r: %s", sentence, err)
        yield from self.fallback.synthesize(sentence)


def _is_stop(event: Event) -> bool:
    return AudioStop.is_type(event.type)


def decode_audio(events: list[Event], source: str) -> np.ndarray:
    """16 kHz mono int16 audio of one answer: its `audio-start`, chunks and `audio-stop`."""
    start = next((AudioStart.from_event(e) for e in events if AudioStart.is_type(e.type)), None)
    if start is None:
        raise RemoteError(f"the speech server {source} sent audio without audio-start")
    converter = AudioChunkConverter(width=2, channels=1)
    parts = []
    for event in events:
        if AudioChunk.is_type(event.type):
            chunk = converter.convert(AudioChunk.from_event(event))
            usable = len(chunk.audio) - len(chunk.audio) % 2
            parts.append(np.frombuffer(chunk.audio[:usable], dtype=np.int16))
    samples = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    if start.rate == RATE:
        return samples
    return to_int16(resample(samples, start.rate, RATE))
