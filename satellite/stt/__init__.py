"""Speech-to-text. Both profiles' engine is Moonshine tiny held to the skills' sentences
(`satellite.stt.held`); pocketsphinx held to a grammar compiled from the same templates
(`satellite.stt.grammar`, `satellite.stt.sphinx`) is the lighter option (`engine: sphinx`).

A closed grammar forces any speech onto one of its sentences, so the engine also decides whether
what it heard was one of them at all: a `Transcript` is a sentence of the grammar, speech that
is `out_of_grammar` (Moonshine held to the skills: its free transcript, for the language model),
or `rejected` with a reason ("sorry, I didn't catch that" beats a wrong action).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from satellite.errors import AudioError
from satellite.stt.grammar import Grammar, GrammarError, MissingWord, compile_grammar
from satellite.stt.moonshine_config import MoonshineConfig
from satellite.stt.wyoming_config import WyomingSttConfig

__all__ = [
    "Grammar",
    "GrammarError",
    "Interrupted",
    "MissingWord",
    "MoonshineConfig",
    "SttConfig",
    "Transcript",
    "WyomingSttConfig",
    "compile_grammar",
]


class Interrupted(Exception):
    """A partial decode given up at its next model call: the recogniser is needed for a whole
    utterance (`satellite.voice.partials`)."""


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one utterance."""

    text: str
    """The sentence heard (lower case, numbers in words); empty when rejected."""
    confidence: float
    """0..1; 0.5 is the acceptance threshold of the acoustic check."""
    rejected: bool
    reason: str = ""
    """Why the utterance was rejected (empty when accepted)."""
    guess: str = ""
    """The grammar's best sentence even when rejected, for logs and tuning."""
    out_of_grammar: bool = False
    """Speech was heard (`text`) but it is not a sentence of the skills (`reason` says why):
    it goes to the language model when there is one, never to the templates."""

    @property
    def in_grammar(self) -> bool:
        """A sentence of the skills was heard and accepted."""
        return not self.rejected and not self.out_of_grammar


@dataclass(frozen=True)
class SttConfig:
    """The `stt` section of the configuration."""

    engine: Literal["auto", "sphinx", "moonshine", "wyoming"] = "auto"
    """Speech-to-text engine: `moonshine` is Moonshine on onnxruntime, held to the skills'
    sentences unless `moonshine.hold.enabled` is off (both profiles' default); `sphinx` is
    pocketsphinx held to a grammar of the skills' sentences (lighter, less accurate);
    `wyoming` is a Wyoming server on another box (docs/REMOTE.md); `auto` is the one of
    `models.profile`."""
    incremental: bool = False
    """The fast turn: decode the utterance while the user speaks (at each pause, on a worker
    thread), end it sooner when that is a complete command (`vad.early_end_silence`) and later
    when it is the beginning of one (`vad.unfinished_silence`); only a recogniser held to the
    skills' sentences (Moonshine) does. Off by default until it measures faster than the
    sequential pipeline (docs/BENCHMARKS.md): the whole utterance once it has ended."""
    moonshine: MoonshineConfig = field(default_factory=MoonshineConfig)
    """Settings of the `moonshine` engine."""
    wyoming: WyomingSttConfig = field(default_factory=WyomingSttConfig)
    """Settings of the `wyoming` engine."""
    acoustic_model: str = ""
    """pocketsphinx acoustic model folder; empty means the US-English model in the wheel."""
    dictionary: str = ""
    """Pronunciation dictionary; empty means the one bundled with pocketsphinx."""
    reject: bool = True
    """Reject speech that is not a sentence of the grammar (off: always return the best guess)."""
    min_llr: float = -22.0
    """Lowest average log-likelihood ratio per 10 ms frame of the grammar's sentence against a
    free phone loop over the same audio (pocketsphinx log units). Lower accepts more."""
    min_phone_duration: float = 0.035
    """A word whose phones average less than this many seconds was squeezed onto speech that
    is not there: reject."""
    max_phone_duration: float = 0.2
    """A word whose phones average more than this many seconds was stretched over other words:
    reject."""
    min_phone_rate: float = 7.5
    """Slowest plausible speech, in phones per second over the sentence."""
    max_phone_rate: float = 16.5
    """Fastest plausible speech, in phones per second over the sentence."""
    max_filler: float = 0.2
    """Largest share of the sentence's span that may be silence or noise between its words."""
    noise_floor_db: float = 35.0
    """White noise is added this many dB below the loudest 100 ms of each utterance before
    recognition, so near-silent pauses (a very clean input) look like a room's quiet."""
    warp: float = 1.15
    """Frequency warp (vocal tract length normalisation) applied before recognition; 1.0 is none."""
    min_audio: float = 0.25
    """Utterances shorter than this many seconds are rejected without decoding."""
    silence_dbfs: float = -50.0
    """Utterances whose loudest 100 ms is quieter than this (dB full scale) count as silence."""

    def __post_init__(self) -> None:
        if self.engine not in ("auto", "sphinx", "moonshine", "wyoming"):
            raise ValueError(
                f'engine: expected auto, sphinx, moonshine or wyoming, got "{self.engine}"'
            )
        for name in ("min_phone_duration", "max_phone_duration", "min_phone_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: expected a positive number, got {getattr(self, name)}")
        if self.max_phone_duration <= self.min_phone_duration:
            raise ValueError("max_phone_duration: expected more than min_phone_duration")
        if self.max_phone_rate <= self.min_phone_rate:
            raise ValueError("max_phone_rate: expected more than min_phone_rate")
        if not 0.0 <= self.max_filler <= 1.0:
            raise ValueError(f"max_filler: expected 0..1, got {self.max_filler}")
        if not 10.0 <= self.noise_floor_db <= 90.0:
            raise ValueError(f"noise_floor_db: expected 10..90 dB, got {self.noise_floor_db}")
        if not 0.5 <= self.warp <= 2.0:
            raise ValueError(f"warp: expected 0.5..2.0, got {self.warp}")
        if self.min_audio < 0:
            raise ValueError(f"min_audio: expected seconds >= 0, got {self.min_audio}")
        if self.silence_dbfs >= 0:
            raise ValueError(f"silence_dbfs: expected a negative level, got {self.silence_dbfs}")


def mono_samples(audio: np.ndarray) -> np.ndarray:
    """`audio` as a 1-D array (a single-channel 2-D array is flattened); AudioError otherwise."""
    samples = np.asarray(audio)
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    if samples.ndim != 1:
        raise AudioError(f"expected mono audio (one channel), got an array shaped {samples.shape}")
    return samples
