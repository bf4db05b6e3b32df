"""Wake-word takes in two voice families and human recordings, and how a listener did on them.

The takes are the recognition corpus's (tests/recognition_corpus.py: every request after the
wake phrase, in espeak-ng and the Piper voice, with pauses, noise and extras; speech without the
wake word; the human recordings), built with the wake phrase of the model under test ("hey
jarvis" or "okay nabu": the same voices, pauses and noise), plus phrases that sound like the wake
phrase, each alone between silences. A take with the wake phrase knows where the phrase is.

    takes = wake_takes(builder, "okay nabu")
    outcomes = run_listener(listener, takes, "okay_nabu")
    for line in summarise(outcomes): print(line)

A take with the wake phrase is `right` when the listener wakes once, with that model, between
the start of the phrase and one second after its end; speech without the wake phrase is right
when nothing wakes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.events import WakeEvent
from satellite.stt.held import HeldMoonshine
from satellite.voice.listener import Listener
from tests.recognition_corpus import LEAD, CorpusBuilder, corpus_specs
from tests.speech import VOICES
from tests.voices import PIPER_SCALES, RATE, Voice, espeak, piper

SIMILAR: Final = {
    "hey jarvis": (
        "hey harvey, how are you",
        "hey travis, turn it off",
        "a jar of peas is on the shelf",
        "hey service, come here",
        "hey marvin, what time is it",
        "jarring noises from the garage",
        "hey jaffa, pass the salt",
        "hey, was it far to paris",
    ),
    "okay nabu": (
        "okay now, turn it off",
        "okay google, what time is it",
        "hey nabil, come here",
        "okay, no problem",
        "the canal boat was okay",
        "okay, maybe tomorrow",
        "a bamboo canoe on the lake",
        "okay, new boots for the winter",
    ),
}
"""Phrases that sound like each wake phrase: none may wake."""
LATE: Final = 1.0
"""A wake more than this after the end of the wake phrase is wrong."""


@dataclass(frozen=True)
class WakeTake:
    id: str
    family: str
    """espeak, piper or human (a human recording, after a Piper wake phrase if any)."""
    group: str
    """corpus (the recognition corpus) or similar (a phrase that sounds like the wake word)."""
    audio: np.ndarray
    wake: tuple[float, float] | None
    """Start and end (s) of the wake phrase; None: a negative."""


def wake_takes(builder: CorpusBuilder, phrase: str) -> list[WakeTake]:
    """The recognition corpus said with `phrase`, then the similar-sounding phrases."""
    builder.wake_phrase = phrase
    takes = []
    for take in builder.build(corpus_specs()):
        spec, span = take.spec, None
        if spec.wake:
            assert spec.voice is not None
            length = len(builder.speaker.speak(phrase, spec.voice)) / RATE
            span = (LEAD, LEAD + length)
        takes.append(WakeTake(spec.id, spec.family, "corpus", take.audio, span))
    return takes + similar_takes(builder, phrase)


def similar_voices() -> tuple[Voice, ...]:
    return (*(espeak(name, 160) for name in VOICES), *(piper(s) for s in PIPER_SCALES))


def similar_takes(builder: CorpusBuilder, phrase: str) -> list[WakeTake]:
    silence = np.zeros(round(0.8 * RATE), np.int16)
    takes = []
    for voice in similar_voices():
        for i, text in enumerate(SIMILAR[phrase]):
            audio = np.concatenate([silence, builder.speaker.speak(text, voice), silence])
            takes.append(WakeTake(f"similar/{voice}/{i}", voice.family, "similar", audio, None))
    return takes


def held_for_wakes(models_dir: str) -> HeldMoonshine:
    """Moonshine held to a small grammar, for a listener whose wake models ask for a second
    opinion (each confirmer compiles its own phrase, `like` this one)."""
    from satellite.app.loaders import load_moonshine
    from satellite.stt.moonshine import MoonshineConfig
    from satellite.voice.stop import stop_intents

    return HeldMoonshine(load_moonshine(MoonshineConfig(), models_dir), stop_intents())


@dataclass(frozen=True)
class WakeOutcome:
    take: WakeTake
    wakes: tuple[WakeEvent, ...]
    model: str

    @property
    def outcome(self) -> str:
        """right, missed, early, late or twice (a take with the wake phrase); right or
        false_wake (a negative)."""
        if self.take.wake is None:
            return "false_wake" if self.wakes else "right"
        if not self.wakes:
            return "missed"
        if len(self.wakes) > 1:
            return "twice"
        start, end = self.take.wake
        t = self.wakes[0].t
        if t <= start or self.wakes[0].model != self.model:
            return "early"
        return "late" if t > end + LATE else "right"


def run_listener(listener: Listener, takes: Iterable[WakeTake], model: str) -> list[WakeOutcome]:
    """Each take from a fresh stream, in odd-sized chunks as a device would deliver them."""
    outcomes = []
    for take in takes:
        listener.reset()
        events = []
        for i in range(0, len(take.audio), 4000):
            events += listener.feed(take.audio[i : i + 4000])
        events += listener.finish()
        wakes = tuple(e for e in events if isinstance(e, WakeEvent))
        outcomes.append(WakeOutcome(take, wakes, model))
    return outcomes


@dataclass(frozen=True)
class WakeSummary:
    family: str
    positives: int
    right: int
    negatives: int
    false_wakes: int
    misses: Counter[str]

    @property
    def rate(self) -> float:
        return self.right / self.positives if self.positives else 1.0

    def line(self) -> str:
        wrong = ", ".join(f"{n} {k}" for k, n in sorted(self.misses.items())) or "none"
        return (
            f"{self.family}: wake right {self.right}/{self.positives} = {100 * self.rate:.1f} % "
            f"({wrong}); false wakes {self.false_wakes}/{self.negatives}"
        )


def summarise(outcomes: Sequence[WakeOutcome]) -> list[WakeSummary]:
    """One summary per family (espeak, piper, human), then `all`."""
    families = ("espeak", "piper", "human", "all")
    return [
        _summary(family, [o for o in outcomes if family in ("all", o.take.family)])
        for family in families
    ]


def _summary(family: str, outcomes: Sequence[WakeOutcome]) -> WakeSummary:
    positives = [o for o in outcomes if o.take.wake is not None]
    negatives = [o for o in outcomes if o.take.wake is None]
    return WakeSummary(
        family,
        len(positives),
        sum(o.outcome == "right" for o in positives),
        len(negatives),
        sum(o.outcome == "false_wake" for o in negatives),
        Counter(o.outcome for o in positives if o.outcome != "right"),
    )
