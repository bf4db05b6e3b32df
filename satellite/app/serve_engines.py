"""What `satellite serve` offers: this box's recogniser (with the skills' sentences), its voice
and its wake words, loaded once and shared by every connection.

Engines that are not safe to run twice at once (a pocketsphinx decoder, a Piper session) are
used by one request at a time, in a worker thread so the event loop keeps serving the other
connections; wake-word detection keeps a state per audio stream, so there is a small pool of
detectors, one per stream being listened to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from satellite import __version__
from satellite.app.loaders import load_local_stt, local_stt, local_tts, open_local_tts
from satellite.app.wake import load_wake
from satellite.config import Config
from satellite.errors import SatelliteError
from satellite.remote.frames import FrameLimits
from satellite.skills import SkillSet
from satellite.stt import Transcript
from satellite.tts import TtsEngine
from satellite.voice.assistant import Recognizer
from satellite.voice.wake import WakeDetector

log = logging.getLogger(__name__)

ATTRIBUTION: Final = Attribution(name="satellite", url="")
"""Who made the programs (this project has no public address to give)."""
LANGUAGES: Final = ["en"]


class ServeError(SatelliteError):
    """`satellite serve` cannot offer what it was asked to."""


@dataclass(frozen=True)
class ServeLimits:
    """What one connection may ask of the server."""

    max_clients: int = 32
    """Connections served at once; one more is told the server is busy and closed."""
    idle_timeout: float = 30.0
    """Seconds a connection may stay silent before it is closed."""
    max_audio: float = 30.0
    """Longest audio stream of one request, in seconds."""
    max_text: int = 2000
    """Longest text of one `synthesize`, in characters."""
    wake_wait: float = 5.0
    """Seconds a `detect` waits for a free wake detector before it is refused."""
    frames: FrameLimits = field(default_factory=FrameLimits)

    def __post_init__(self) -> None:
        if not 1 <= self.max_clients <= 10000:
            raise ValueError(f"max_clients: expected 1..10000, got {self.max_clients}")
        for name in ("idle_timeout", "max_audio", "wake_wait"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number of seconds")


class ServedEngines:
    """The engines, each behind its own guard."""

    def __init__(
        self, stt: Recognizer, tts: TtsEngine, detectors: list[WakeDetector], info: Info
    ) -> None:
        self.stt = stt
        self.tts = tts
        self.info = info
        self.wake_names = [m.name for d in detectors[:1] for m in d.models]
        self._detectors = detectors
        self._stt_lock: asyncio.Lock | None = None
        self._tts_lock: asyncio.Lock | None = None
        self._free: asyncio.Queue[WakeDetector] | None = None

    def bind(self) -> None:
        """Make the guards on the running event loop (once, before serving)."""
        self._stt_lock, self._tts_lock = asyncio.Lock(), asyncio.Lock()
        self._free = asyncio.Queue()
        for detector in self._detectors:
            self._free.put_nowait(detector)

    async def transcribe(self, audio: np.ndarray) -> Transcript:
        assert self._stt_lock is not None
        async with self._stt_lock:
            return await asyncio.to_thread(self.stt.transcribe, audio)

    async def synthesize(self, text: str) -> AsyncGenerator[np.ndarray]:
        """The voice's audio for `text`, one array per sentence as each is made."""
        assert self._tts_lock is not None
        async with self._tts_lock:
            sentences = iter(self.tts.synthesize(text))
            while (audio := await asyncio.to_thread(next, sentences, None)) is not None:
                yield audio

    @asynccontextmanager
    async def detector(self, wait: float) -> AsyncIterator[WakeDetector]:
        """A wake detector of its own for one audio stream, forgetting earlier audio."""
        assert self._free is not None
        try:
            detector = await asyncio.wait_for(self._free.get(), wait)
        except TimeoutError as err:
            raise ServeError(f"every wake detector is busy ({len(self._detectors)})") from err
        try:
            detector.reset()
            yield detector
        finally:
            self._free.put_nowait(detector)


def load_served(config: Config, wake_streams: int = 2) -> ServedEngines:
    """This box's engines as the configuration names them; never a remote engine."""
    if config.stt.engine == "wyoming" or config.tts.engine == "wyoming":
        which = "stt" if config.stt.engine == "wyoming" else "tts"
        raise ServeError(
            f"satellite serve offers this box's own engines, and {which}.engine is wyoming "
            "(a remote one): set it to a local engine in the configuration it is started with"
        )
    skills = SkillSet(config.skills)
    for problem in skills.problems:
        log.warning("skill problem: %s", problem)
    stt = load_local_stt(config, skills)
    tts = open_local_tts(config.tts, config.models.dir, config.models.manifest)
    assert stt is not None and tts is not None
    detectors = [load_wake(config) for _ in range(max(1, wake_streams))]
    info = describe(config, detectors[0])
    return ServedEngines(stt, tts, detectors, info)


def describe(config: Config, detector: WakeDetector) -> Info:
    """The `info` answer: one program per service, named after the engines behind it."""
    stt, tts = local_stt(config), local_tts(config.tts)
    voice = config.tts.voice if tts == "espeak" else (config.tts.piper.model or "piper")
    return Info(
        asr=[
            AsrProgram(
                name=f"satellite-{stt}",
                description=_STT_DESCRIPTIONS.get(stt, stt),
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                models=[_asr_model(stt)],
            )
        ],
        tts=[
            TtsProgram(
                name=f"satellite-{tts}",
                description=f"{tts} through satellite",
                attribution=ATTRIBUTION,
                installed=True,
                version=__version__,
                voices=[_voice(voice)],
            )
        ],
        wake=[_wake_program(detector)],
    )


_STT_DESCRIPTIONS: Final = {
    "sphinx": "pocketsphinx held to the skills' sentences (rejects anything else)",
    "moonshine": "Moonshine, open vocabulary",
}


def _asr_model(name: str) -> AsrModel:
    return AsrModel(
        name=name,
        description=_STT_DESCRIPTIONS.get(name, name),
        attribution=ATTRIBUTION,
        installed=True,
        version=None,
        languages=LANGUAGES,
    )


def _voice(name: str) -> TtsVoice:
    return TtsVoice(
        name=name,
        description=name,
        attribution=ATTRIBUTION,
        installed=True,
        version=None,
        languages=LANGUAGES,
    )


def _wake_program(detector: WakeDetector) -> WakeProgram:
    phrase: Callable[[str], str] = lambda name: name.replace("_", " ")  # noqa: E731
    models = [
        WakeModel(
            name=m.name,
            description=m.name,
            attribution=ATTRIBUTION,
            installed=True,
            version=None,
            languages=LANGUAGES,
            phrase=phrase(m.name),
        )
        for m in detector.models
    ]
    return WakeProgram(
        name="satellite-wake",
        description="wake words through satellite",
        attribution=ATTRIBUTION,
        installed=True,
        version=__version__,
        models=models,
    )
