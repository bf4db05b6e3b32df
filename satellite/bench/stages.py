"""What the bench reports: the stages of a turn, and which of them each profile has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from satellite.errors import SatelliteError


@dataclass(frozen=True)
class Stage:
    key: str
    """Name in the JSON document."""
    label: str
    """Name in the table and the chart."""
    llm: bool = False
    """Only profiles with a language model have it."""


STAGES: Final = (
    Stage("wake", "wake (per 80 ms frame)"),
    Stage("vad_tail", "VAD tail (audio time)"),
    Stage("stt", "STT"),
    Stage("nlu", "NLU"),
    Stage("action", "action"),
    Stage("llm_first_token", "LLM first token", llm=True),
    Stage("llm_total", "LLM total", llm=True),
    Stage("tts_first_audio", "TTS first audio"),
    Stage("tts_total", "TTS total"),
    Stage("mqtt_publish", "MQTT publish"),
)
END_TO_END: Final = (
    Stage("speech_end_to_intent", "end of speech → intent"),
    Stage("speech_end_to_first_audio", "end of speech → first audio"),
    Stage("speech_end_to_first_audio_llm", "  … turns the LLM handled", llm=True),
)
CHAIN: Final = ("vad_tail", "stt", "nlu", "action", "tts_first_audio")
"""The stages between the end of speech and the first reply audio, in order (the chart). With a
language model, NLU includes its intent pass; its answers have their own bar."""
STT_LOADS: Final = {
    "moonshine": ("stt_moonshine", "stt_held"),
    "sphinx": ("stt_grammar", "stt_decoder"),
}
"""The recogniser's components whose load time is measured, per `stt.engine`: Moonshine then
the skills' sentences compiled for it; pocketsphinx's grammar then its decoder."""
LOADS: Final = ("wake", "vad", "skills", *STT_LOADS["moonshine"], "tts")
"""Components of the lite profile whose load time is measured, in load order."""
FULL_LOADS: Final = ("wake", "vad", "skills", *STT_LOADS["moonshine"], "llm", "tts")
"""The same for the full profile."""


@dataclass(frozen=True)
class Profile:
    name: str
    llm: bool
    """Whether the profile's pipeline has a language model stage."""
    loads: tuple[str, ...]
    """Components whose load time is measured, in load order."""

    def has(self, stage: Stage) -> bool:
        return self.llm or not stage.llm

    def loads_with(self, stt_engine: str, hold: bool = True) -> tuple[str, ...]:
        """`loads` for the recogniser configured (`stt.engine`; Moonshine not held: no
        sentences to compile)."""
        wanted: tuple[str, ...] = STT_LOADS.get(stt_engine, ())
        if stt_engine == "moonshine" and not hold:
            wanted = wanted[:1]
        stt = {name for names in STT_LOADS.values() for name in names}
        loads = [name for name in self.loads if name not in stt]
        at = loads.index("skills") + 1
        return (*loads[:at], *wanted, *loads[at:])


PROFILES: Final = {
    "lite": Profile("lite", llm=False, loads=LOADS),
    "full": Profile("full", llm=True, loads=FULL_LOADS),
}


def profile(name: str) -> Profile:
    """The profile `name`; SatelliteError when unknown."""
    found = PROFILES.get(name)
    if found is None:
        raise SatelliteError(f"unknown profile {name!r}: expected one of {', '.join(PROFILES)}")
    return found
