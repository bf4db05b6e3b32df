"""The labelled recognition corpus: every request of tests/corpus_sentences.py spoken after
"hey jarvis" in both voice families, speech without the wake word, and human recordings.

`corpus_specs()` lists the takes (cheap: no audio); `build(specs, speaker, recordings)` speaks
them. Everything is deterministic: voices, rates, pauses, noise and extras follow from each
take's position in its group, and noise from a seed derived from its id. Sentences alternate
between two splits that also use different voices: `tune` (to set thresholds on) and
`held_out` (to check that they carry over).

A take is `[0.8 s] hey jarvis [pause] request [extra] [1.2 s]` in one voice, then noise:

- pauses after the wake phrase: none, 0.3 s, 0.7 s;
- noise: clean, pink or babble (six espeak talkers) at 20 dB or 10 dB below the speech;
- extras on some takes: a cough after the wake phrase, a click after the request, or a second
  sentence 0.9 s after the request (past the end of its utterance: it must change nothing).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from tests.corpus_sentences import (
    BABBLE,
    COMMAND_GROUPS,
    OUT_OF_GRAMMAR_GROUPS,
    SECOND_SENTENCES,
    WITHOUT_WAKE,
    Request,
)
from tests.noises import babble, click, cough, mix, pink
from tests.recordings import Recordings, Segment, human_segments
from tests.voices import RATE, Speaker, Voice, espeak, piper

Kind = Literal["command", "out_of_grammar", "no_wake"]
Split = Literal["tune", "held_out"]
SPLITS: Final[tuple[Split, ...]] = ("tune", "held_out")
WAKE_PHRASE: Final = "hey jarvis"

ESPEAK_BY_SPLIT: Final[dict[Split, tuple[str, ...]]] = {
    "tune": ("en-us", "en-us+f3", "en+m7"),
    "held_out": ("en-us+m3", "en-gb"),
}
ESPEAK_RATES: Final[dict[Split, tuple[int, ...]]] = {
    "tune": (130, 150, 170, 190),
    "held_out": (140, 160, 180),
}
PIPER_BY_SPLIT: Final[dict[Split, tuple[float, ...]]] = {
    "tune": (0.8, 1.0, 1.2),
    "held_out": (0.9, 1.1, 1.3),
}
PAUSES: Final = (0.0, 0.3, 0.7)
NOISES: Final = (
    ("clean", None),
    ("clean", None),
    ("pink", 20.0),
    ("clean", None),
    ("babble", 20.0),
    ("clean", None),
    ("pink", 10.0),
    ("babble", 20.0),
    ("clean", None),
    ("babble", 10.0),
    ("pink", 20.0),
)
"""Cycled over the takes of each group: about half clean, a third at 20 dB, the rest at 10 dB."""
EXTRAS: Final = ("", "", "", "cough", "", "", "", "click", "", "", "", "second")
LEAD, TAIL, SECOND_GAP = 0.8, 1.2, 0.9


@dataclass(frozen=True)
class TakeSpec:
    """Everything that determines one take's audio, and its label."""

    id: str
    kind: Kind
    family: Literal["espeak", "piper", "human"]
    split: Split
    request: Request
    voice: Voice | None
    """None for a human recording."""
    wake: bool
    pause: float = 0.0
    noise: str = "clean"
    snr: float | None = None
    extra: str = ""
    """"", "cough", "click" or "second" (a second sentence after the request)."""
    segment: Segment | None = None
    """The human recording and span, for family "human"."""

    @property
    def seed(self) -> int:
        return int(hashlib.sha256(self.id.encode()).hexdigest()[:8], 16)

    @property
    def condition(self) -> str:
        return "clean" if self.snr is None else f"{self.noise} {self.snr:g} dB"


@dataclass(frozen=True)
class CorpusTake:
    spec: TakeSpec
    audio: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE


def _voice(family: str, split: Split, n: int) -> Voice:
    if family == "espeak":
        names, rates = ESPEAK_BY_SPLIT[split], ESPEAK_RATES[split]
        return espeak(names[n % len(names)], rates[(n // len(names)) % len(rates)])
    scales = PIPER_BY_SPLIT[split]
    return piper(scales[n % len(scales)])


def _spoken_specs(kind: Kind, groups: dict[str, tuple[Request, ...]]) -> Iterator[TakeSpec]:
    for family in ("espeak", "piper"):
        for group, requests in groups.items():
            for i, request in enumerate(requests):
                split: Split = SPLITS[i % 2]
                n = i // 2 + (3 if family == "piper" else 0)
                noise, snr = NOISES[(i + len(group)) % len(NOISES)]
                yield TakeSpec(
                    id=f"{kind}/{family}/{group}/{i:02d}",
                    kind=kind,
                    family=family,
                    split=split,
                    request=request,
                    voice=_voice(family, split, n + len(group)),
                    wake=True,
                    pause=PAUSES[(i + len(group) + (family == "piper")) % len(PAUSES)],
                    noise=noise,
                    snr=snr,
                    extra=EXTRAS[(i + 3 * len(group) + (family == "piper")) % len(EXTRAS)],
                )


def _no_wake_specs() -> Iterator[TakeSpec]:
    for family in ("espeak", "piper"):
        for i, text in enumerate(WITHOUT_WAKE):
            split: Split = SPLITS[i % 2]
            noise, snr = NOISES[(3 * i) % len(NOISES)]
            yield TakeSpec(
                id=f"no_wake/{family}/{i:02d}",
                kind="no_wake",
                family=family,
                split=split,
                request=Request(text, category="no_wake"),
                voice=_voice(family, split, i + 1),
                wake=False,
                noise=noise,
                snr=snr,
            )


def _human_specs(segments: tuple[Segment, ...]) -> Iterator[TakeSpec]:
    for i, segment in enumerate(segments):
        yield TakeSpec(
            id=f"no_wake/human/{segment.name}",
            kind="no_wake",
            family="human",
            split=SPLITS[i % 2],
            request=Request(segment.text, category="recording"),
            voice=None,
            wake=False,
            segment=segment,
        )
    for i, segment in enumerate(s for s in segments if s.with_wake):
        split: Split = SPLITS[i % 2]
        yield TakeSpec(
            id=f"out_of_grammar/human/{segment.name}",
            kind="out_of_grammar",
            family="human",
            split=split,
            request=Request(segment.text, category="recording"),
            voice=piper(1.0),
            wake=True,
            pause=0.3,
            segment=segment,
        )


def corpus_specs() -> tuple[TakeSpec, ...]:
    """Every take of the corpus, in a fixed order."""
    return tuple(
        itertools.chain(
            _spoken_specs("command", COMMAND_GROUPS),
            _spoken_specs("out_of_grammar", OUT_OF_GRAMMAR_GROUPS),
            _no_wake_specs(),
            _human_specs(human_segments()),
        )
    )


def select(
    specs: Iterable[TakeSpec], split: str = "all", family: str = "all", kind: str = "all"
) -> tuple[TakeSpec, ...]:
    """The takes of one split, family and kind (`all` keeps every one)."""
    return tuple(
        s
        for s in specs
        if split in ("all", s.split) and family in ("all", s.family) and kind in ("all", s.kind)
    )


class CorpusBuilder:
    """Speaks takes; speech comes from `speaker` (cached on disk), recordings from the model
    manager's `test_audio` entry. `wake_phrase` is what the takes with the wake word begin with
    (the wake tests also build the corpus with "okay nabu")."""

    def __init__(
        self, speaker: Speaker, recordings: Recordings, wake_phrase: str = WAKE_PHRASE
    ) -> None:
        self.speaker = speaker
        self.recordings = recordings
        self.wake_phrase = wake_phrase

    def build(self, specs: Iterable[TakeSpec]) -> list[CorpusTake]:
        return [CorpusTake(spec, self.audio(spec)) for spec in specs]

    def audio(self, spec: TakeSpec) -> np.ndarray:
        parts = [_silence(LEAD)]
        if spec.wake:
            assert spec.voice is not None
            parts += [self.speaker.speak(self.wake_phrase, spec.voice), _silence(spec.pause)]
        if spec.extra == "cough":
            parts += [cough(spec.seed), _silence(0.25)]
        parts.append(self._request(spec))
        if spec.extra == "click":
            parts += [_silence(0.15), click(spec.seed)]
        if spec.extra == "second":
            assert spec.voice is not None
            second = SECOND_SENTENCES[spec.seed % len(SECOND_SENTENCES)]
            parts += [_silence(SECOND_GAP), self.speaker.speak(second, spec.voice)]
        parts.append(_silence(TAIL))
        audio = np.concatenate(parts)
        return self._noisy(audio, spec)

    def _request(self, spec: TakeSpec) -> np.ndarray:
        if spec.segment is not None:
            return self.recordings.cut(spec.segment)
        assert spec.voice is not None
        return self.speaker.speak(spec.request.text, spec.voice)

    def _noisy(self, audio: np.ndarray, spec: TakeSpec) -> np.ndarray:
        if spec.snr is None:
            return audio
        if spec.noise == "pink":
            noise = pink(len(audio), spec.seed)
        else:
            noise = babble(len(audio), spec.seed, self._babble_track())
        return mix(audio, noise, spec.snr)

    def _babble_track(self) -> tuple[np.ndarray, ...]:
        if not hasattr(self, "_talkers"):
            names = ("en-us", "en-gb", "en-us+f3", "en+m7", "en-us+m3", "en-us+f4")
            self._talkers = tuple(
                np.concatenate(
                    [
                        self.speaker.speak(BABBLE[(t + k) % len(BABBLE)], espeak(name, 165))
                        for k in range(len(BABBLE))
                    ]
                )
                for t, name in enumerate(names)
            )
        return self._talkers


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.int16)


def write_wav(take: CorpusTake, folder: Path) -> Path:
    """The take as a 16 kHz WAV file named after its id (for listening, or `satellite replay`)."""
    import wave

    path = folder / (take.spec.id.replace("/", "_") + ".wav")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(take.audio.tobytes())
    return path
