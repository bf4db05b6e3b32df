"""One connection to `satellite serve`: the Wyoming events it sends, answered in order.

    describe                                  → info
    transcribe, audio-start, audio-chunk…, audio-stop → transcript
    synthesize                                → audio-start, audio-chunk…, audio-stop
    detect, audio-start, audio-chunk…, audio-stop → detection (as soon as heard) or not-detected
    ping                                      → pong

Audio may come at any rate, width and channel count; it is converted to 16 kHz mono 16-bit.
A request the server cannot carry out (too much audio, text too long, no free wake detector,
an engine's failure) is answered with an `error` event and the connection stays usable;
events of other types are ignored, as the protocol asks.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, aclosing
from typing import Final

import numpy as np
from wyoming.asr import Transcribe
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected

from satellite.app.serve_engines import ServedEngines, ServeError, ServeLimits
from satellite.audio.wavfile import RATE, Resampler, to_int16
from satellite.errors import SatelliteError
from satellite.stt import Transcript
from satellite.voice.wake import FRAME, WakeDetector

log = logging.getLogger(__name__)

CHUNK: Final = 1024
"""Samples per audio chunk sent (64 ms)."""
EXTRA_KEY: Final = "satellite"
"""Key of a transcript's data with what our recogniser decided (`satellite.stt.wyoming`)."""


class Session:
    """The state of one connection: which request its audio belongs to."""

    def __init__(
        self,
        engines: ServedEngines,
        limits: ServeLimits,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.engines = engines
        self.limits = limits
        self.reader = reader
        self.writer = writer
        self._mode = ""
        self._audio: list[np.ndarray] = []
        self._samples = 0
        self._converter = AudioChunkConverter(width=2, channels=1)
        self._resampler: Resampler | None = None
        self._detector: WakeDetector | None = None
        self._detected = False
        self._held = AsyncExitStack()

    async def write(self, event: Event) -> None:
        await async_write_event(event, self.writer)

    async def handle(self, event: Event) -> None:
        """Answer one event; a request that fails is answered with an `error` event."""
        try:
            await self._dispatch(event)
        except SatelliteError as err:
            await self._refuse(event, str(err), type(err).__name__)
        except (KeyError, TypeError, ValueError) as err:  # a field missing or of a wrong type
            await self._refuse(event, f"malformed {event.type} event ({err!r})", "bad-event")

    async def _refuse(self, event: Event, text: str, code: str) -> None:
        log.warning("%s request refused: %s", event.type, text)
        await self._reset()
        await self.write(Error(text=text, code=code).event())

    async def close(self) -> None:
        await self._reset()

    async def _dispatch(self, event: Event) -> None:
        kind = event.type
        if Describe.is_type(kind):
            await self.write(self.engines.info.event())
        elif Ping.is_type(kind):
            await self.write(Pong(text=Ping.from_event(event).text).event())
        elif Transcribe.is_type(kind):
            await self._begin("transcribe")
        elif Detect.is_type(kind):
            await self._begin("detect")
            self._detector = await self._held.enter_async_context(
                self.engines.detector(self.limits.wake_wait)
            )
        elif AudioStart.is_type(kind):
            self._audio_start(AudioStart.from_event(event))
        elif AudioChunk.is_type(kind):
            await self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(kind):
            await self._audio_stop()
        elif Synthesize.is_type(kind):
            await self._synthesize(Synthesize.from_event(event).text)
        else:
            log.debug("ignored a %s event", kind)

    async def _begin(self, mode: str) -> None:
        await self._reset()
        self._mode = mode

    async def _reset(self) -> None:
        self._mode, self._audio, self._samples = "", [], 0
        self._resampler, self._detector, self._detected = None, None, False
        await self._held.aclose()

    def _audio_start(self, start: AudioStart) -> None:
        if not self._mode:
            return
        if not 1000 <= start.rate <= 192000:
            raise ServeError(f"audio-start: a rate of {start.rate} Hz is not audio")
        self._resampler = Resampler(start.rate, RATE)
        self._audio, self._samples = [], 0

    async def _audio_chunk(self, chunk: AudioChunk) -> None:
        if not self._mode or self._resampler is None or self._detected:
            return
        if chunk.width not in (1, 2, 3, 4) or not 1 <= chunk.channels <= 8:
            raise ServeError(
                f"audio-chunk: {chunk.width}-byte samples in {chunk.channels} channels"
            )
        converted = self._converter.convert(chunk).audio
        pcm = np.frombuffer(converted[: len(converted) - len(converted) % 2], dtype=np.int16)
        samples = to_int16(self._resampler.process(pcm))
        self._samples += len(samples)
        if self._samples > self.limits.max_audio * RATE:
            raise ServeError(f"more than {self.limits.max_audio:g} s of audio in one request")
        self._audio.append(samples)
        if self._mode == "detect":
            await self._listen()

    async def _audio_stop(self) -> None:
        mode, audio = self._mode, self._joined()
        detected = self._detected
        await self._reset()
        if mode == "transcribe" and self._gone():
            return
        if mode == "transcribe":
            transcript = await self.engines.transcribe(audio)
            await self.write(transcript_event(transcript))
        elif mode == "detect" and not detected:
            await self.write(NotDetected().event())

    def _joined(self) -> np.ndarray:
        if self._resampler is not None and self._mode == "transcribe":
            self._audio.append(to_int16(self._resampler.flush()))
        return np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)

    async def _listen(self) -> None:
        """Run the wake detector over the whole frames received; answer on the first wake."""
        detector = self._detector
        audio = self._joined()
        whole = len(audio) - len(audio) % FRAME
        self._audio = [audio[whole:]]
        if detector is None or not whole:
            return
        frames = audio[:whole].reshape(-1, FRAME)
        name = await asyncio.to_thread(_first_wake, detector, frames)
        if name:
            self._detected = True
            await self.write(Detection(name=name, timestamp=self._samples * 1000 // RATE).event())

    def _gone(self) -> bool:
        """The client hung up after its request (it gave up waiting): no work for nobody."""
        if self.reader.at_eof():
            log.info("the client left before its answer: not carried out")
            return True
        return False

    async def _synthesize(self, text: str) -> None:
        if len(text) > self.limits.max_text:
            raise ServeError(f"synthesize: text longer than {self.limits.max_text} characters")
        if self._gone():
            return
        await self.write(AudioStart(rate=RATE, width=2, channels=1).event())
        async with aclosing(self.engines.synthesize(text)) as sentences:
            async for audio in sentences:
                pcm = np.asarray(audio, dtype=np.int16).tobytes()
                for i in range(0, len(pcm), CHUNK * 2):
                    chunk = AudioChunk(rate=RATE, width=2, channels=1, audio=pcm[i : i + CHUNK * 2])
                    await self.write(chunk.event())
        await self.write(AudioStop().event())


def _first_wake(detector: WakeDetector, frames: np.ndarray) -> str:
    for frame in frames:
        wake = detector.process(frame, 0.0)
        if wake is not None:
            return wake.model
    return ""


def transcript_event(transcript: Transcript) -> Event:
    """The Wyoming `transcript` of our recogniser's: empty text when it rejected the speech,
    and what it decided under `satellite` for a client that is a satellite too."""
    text = "" if transcript.rejected else transcript.text
    event = WyomingTranscript(text=text).event()
    event.data[EXTRA_KEY] = {
        "confidence": round(transcript.confidence, 3),
        "rejected": transcript.rejected,
        "reason": transcript.reason,
        "guess": transcript.guess,
    }
    return event
