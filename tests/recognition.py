"""Score a satellite on the recognition corpus: what each take did, against its label.

    from tests.recognition import Scorer, corpus_config
    config = corpus_config(models_dir, "lite", state_dir)
    results = Scorer.for_config(config).run(takes)       # takes: tests.recognition_corpus
    print(format_report(results))

The satellite is the real one, `satellite.app.build.build(config, live=False)` (it recognises and
replies but does not act, speak or connect), fed each take in half-second chunks. Outcomes:

- a command: `right` (intent and slots as labelled), `wrong_slot` (right intent, a slot value
  wrong: the worst), `wrong_intent`, `rejected` (no intent, "Sorry…"), `no_wake`;
- an out-of-grammar request: `rejected` (right), `acted` (an intent came out), `no_wake`;
- speech without the wake word: `ignored` (right) or `false_wake`;
- any take whose turn gave a second intent: `extra_intent`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from satellite.app.build import Satellite, build
from satellite.config import Config
from satellite.events import Event
from tests.corpus_sentences import AREAS, DEVICES
from tests.recognition_corpus import CorpusTake, TakeSpec

CHUNK: Final = 8000
GOOD: Final = {"command": "right", "out_of_grammar": "rejected", "no_wake": "ignored"}
"""The right outcome for each kind of take."""


def corpus_config(
    models_dir: Path | str,
    profile: str,
    state_dir: Path | str,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """The corpus's satellite: its areas and devices, no MQTT, no earcons; `full` is Moonshine
    with the templates and the language model off (espeak replies, never spoken here).
    `overrides` are merged into the config sections (e.g. {"stt": {"min_llr": -18}})."""
    data: dict[str, Any] = {
        "models": {"dir": str(models_dir), "profile": profile},
        "skills": {"areas": list(AREAS), "devices": DEVICES, "state_dir": str(state_dir)},
        "mqtt": {"enabled": False},
        "earcons": {"enabled": False},
        "llm": {"enabled": False},
        "tts": {"engine": "espeak"},
    }
    for section, values in (overrides or {}).items():
        merged = dict(data.get(section, {}))
        merged.update(values)
        data[section] = merged
    return Config.from_dict(data, "corpus config")


@dataclass(frozen=True)
class Result:
    """What one take did."""

    spec: TakeSpec
    outcome: str
    heard: str = ""
    """The transcript (or the rejected guess's text)."""
    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    reply: str = ""
    reason: str = ""
    """Why nothing was understood (the not_recognized reason), when nothing was."""
    stt_ms: float | None = None
    seconds: float = 0.0
    """Wall time for the whole take (wake, VAD, STT, skills)."""

    @property
    def good(self) -> bool:
        return self.outcome == GOOD[self.spec.kind]


def classify(spec: TakeSpec, events: list[Event]) -> Result:
    """The outcome of one take from the events its turn published."""
    woke = any(e.type == "wake" for e in events)
    intents = [e for e in events if e.type == "intent"]
    first = intents[0] if intents else None
    name = getattr(first, "name", "")
    slots = dict(getattr(first, "slots", {}))
    reply = next((getattr(e, "text", "") for e in events if e.type == "reply"), "")
    heard = next((getattr(e, "text", "") for e in events if e.type == "transcript"), "")
    reasons = [getattr(e, "reason", "") for e in events if e.type == "not_recognized"]
    if not heard:
        heard = next((getattr(e, "text", "") for e in events if e.type == "not_recognized"), "")
    if any(e.type == "no_speech" for e in events):
        reasons.append("no speech after the wake word")
    stt = next((getattr(e, "stt_ms", None) for e in events if e.type == "timings"), None)
    outcome = _outcome(spec, woke, name, slots, len(intents))
    return Result(spec, outcome, heard, name, slots, reply, "; ".join(reasons), stt)


def _outcome(spec: TakeSpec, woke: bool, intent: str, slots: dict[str, Any], n: int) -> str:
    if spec.kind == "no_wake":
        return "false_wake" if woke else "ignored"
    if not woke:
        return "no_wake"
    if n > 1:
        return "extra_intent"
    if spec.kind == "out_of_grammar":
        return "acted" if intent else "rejected"
    if not intent:
        return "rejected"
    if intent != spec.request.intent:
        return "wrong_intent"
    return "right" if slots == dict(spec.request.slots) else "wrong_slot"


class Scorer:
    """Runs takes through one satellite (built once) and classifies each."""

    def __init__(self, satellite: Satellite) -> None:
        self.satellite = satellite
        self._seen: list[Event] = []
        satellite.bus.subscribe(self._collect)

    @classmethod
    def for_config(cls, config: Config) -> Scorer:
        return cls(build(config, live=False))

    def _collect(self, event: Event) -> None:
        if event.type != "state":
            self._seen.append(event)

    def events(self, take: CorpusTake) -> list[Event]:
        """Every event (but state changes) the take causes, from a fresh stream."""
        self._seen = []
        pipeline = self.satellite.pipeline
        pipeline.reset()
        audio = take.audio
        for i in range(0, len(audio), CHUNK):
            pipeline.feed(audio[i : i + CHUNK])
        pipeline.finish()
        return self._seen

    def score(self, take: CorpusTake) -> Result:
        start = time.perf_counter()
        events = self.events(take)
        return replace(classify(take.spec, events), seconds=time.perf_counter() - start)

    def run(self, takes: Iterable[CorpusTake]) -> list[Result]:
        return [self.score(take) for take in takes]

    def close(self) -> None:
        self.satellite.close()


def understood(satellite: Satellite, text: str) -> tuple[str, dict[str, Any]] | None:
    """What the satellite's templates make of `text` (no speech): intent and slots, or None."""
    match = satellite.assistant.skills.recognize(text)
    return None if match is None else (match.intent, dict(match.slots))
