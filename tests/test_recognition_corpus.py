"""The recognition corpus and its scorer: what the corpus holds, that its labels are what the
skills produce, that its speech is deterministic and cached, and that the scorer classifies a
real satellite's turns. (The numbers themselves: scripts/recognition_report.py.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from satellite.app.build import Satellite
from satellite.events import Event, IntentEvent, NotRecognizedEvent, ReplyEvent, WakeEvent
from tests.corpus_sentences import COMMAND_GROUPS, OUT_OF_GRAMMAR_GROUPS, Request
from tests.recognition import Scorer, classify, corpus_config, understood
from tests.recognition_corpus import (
    CorpusBuilder,
    CorpusTake,
    TakeSpec,
    corpus_specs,
    select,
)
from tests.recordings import Recordings
from tests.voices import Speaker, _piper_speak, _trim, espeak, piper

BUILTIN_INTENTS = {
    "HassTurnOn",
    "HassTurnOff",
    "HassStartTimer",
    "HassCancelTimer",
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassSetVolume",
    "HassNevermind",
}


@pytest.fixture(scope="module")
def lite(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    config = corpus_config(models_dir, "lite", tmp_path_factory.mktemp("corpus-state"))
    return Scorer.for_config(config)


@pytest.fixture(scope="module")
def corpus(models_dir: Path) -> list[CorpusTake]:
    return CorpusBuilder(Speaker(models_dir), Recordings(models_dir)).build(corpus_specs())


def test_the_corpus_holds_what_issue_11_asks_for() -> None:
    specs = corpus_specs()
    kinds = Counter((s.kind, s.family) for s in specs)
    assert len(specs) >= 200
    assert kinds["command", "espeak"] >= 40 and kinds["command", "piper"] >= 40
    assert kinds["out_of_grammar", "espeak"] >= 30 and kinds["out_of_grammar", "piper"] >= 30
    assert sum(n for (kind, _), n in kinds.items() if kind == "no_wake") >= 30
    assert kinds["no_wake", "human"] >= 10
    assert len({s.id for s in specs}) == len(specs)
    near = [s for s in specs if s.request.category == "near_miss"]
    assert len(near) >= 30


def test_every_intent_in_every_split_and_family() -> None:
    for split in ("tune", "held_out"):
        for family in ("espeak", "piper"):
            takes = select(corpus_specs(), split, family, "command")
            assert {s.request.intent for s in takes} == BUILTIN_INTENTS, (split, family)
            by_name = [s for s in takes if "name" in s.request.slots]
            by_area = [s for s in takes if "area" in s.request.slots]
            assert by_name and by_area
            assert {"hours", "minutes", "seconds"} <= {k for s in takes for k in s.request.slots}


def test_the_splits_differ_in_sentences_and_voices() -> None:
    specs = corpus_specs()
    for family in ("espeak", "piper"):
        tune, held = (select(specs, split, family) for split in ("tune", "held_out"))
        assert not {s.request.text for s in tune} & {s.request.text for s in held}
        assert not {s.voice for s in tune} & {s.voice for s in held}
    conditions = Counter(s.condition for s in specs)
    assert {"clean", "pink 20 dB", "pink 10 dB", "babble 20 dB", "babble 10 dB"} <= set(conditions)
    assert {s.pause for s in specs if s.wake} == {0.0, 0.3, 0.7}
    assert {s.extra for s in specs} == {"", "cough", "click", "second"}


def test_labels_are_what_the_skills_produce(lite: Scorer) -> None:
    """ "ours" sentences give exactly their label from the templates; a Home Assistant phrasing
    that the templates match (once they learn it) must give its label too; no out-of-grammar
    request is a sentence of the templates."""
    for requests in COMMAND_GROUPS.values():
        for request in requests:
            got = understood(lite.satellite, request.text)
            label = (request.intent, dict(request.slots))
            if request.phrasing == "ours" or got is not None:
                assert got == label, request.text
    for requests in OUT_OF_GRAMMAR_GROUPS.values():
        for request in requests:
            assert understood(lite.satellite, request.text) is None, request.text


def test_piper_speaks_the_same_samples_twice(models_dir: Path, tmp_path: Path) -> None:
    speaker = Speaker(models_dir, cache=tmp_path)
    first = speaker.speak("set a timer for ten minutes", piper(1.1))
    again = _piper_speak(speaker._piper_model, "set a timer for ten minutes", 1.1)
    assert first.dtype == np.int16 and len(first) > 16000 * 0.8
    assert np.array_equal(first, _trim(again))
    slower = speaker.speak("set a timer for ten minutes", piper(1.3))
    assert len(slower) > len(first) * 1.1


def test_speech_is_cached_by_text_voice_and_rate(models_dir: Path, tmp_path: Path) -> None:
    speaker = Speaker(models_dir, cache=tmp_path)
    audio = speaker.speak("what time is it", espeak("en-us", 160))
    assert np.array_equal(speaker.speak("what time is it", espeak("en-us", 160)), audio)
    assert speaker.synthesised == 1 and len(list(tmp_path.glob("*.npy"))) == 1
    speaker.speak("what time is it", espeak("en-us", 190))
    speaker.speak("what time is it", espeak("en-gb", 160))
    assert speaker.synthesised == 3
    entry = next(iter(tmp_path.glob("*.npy")))
    entry.write_bytes(b"damaged")
    fresh = Speaker(models_dir, cache=tmp_path)
    for wpm in (160, 190):
        fresh.speak("what time is it", espeak("en-us", wpm))
    assert fresh.synthesised == 1  # only the damaged entry was spoken again


def test_the_corpus_audio_is_deterministic_and_well_formed(
    corpus: list[CorpusTake], models_dir: Path
) -> None:
    again = CorpusBuilder(Speaker(models_dir), Recordings(models_dir))
    for take in corpus[::37]:
        assert np.array_equal(again.audio(take.spec), take.audio), take.spec.id
    for take in corpus:
        assert take.audio.dtype == np.int16 and 1.5 < take.seconds < 15, take.spec.id
        assert not np.any(take.audio[:4000]) or take.spec.snr is not None, take.spec.id
    noisy = [t for t in corpus if t.spec.snr == 10.0]
    for take in noisy[:5]:
        lead = take.audio[:12000].astype(float)
        speech = take.audio[np.abs(take.audio) > 2000].astype(float)
        ratio = 20 * np.log10(np.sqrt(np.mean(speech**2)) / np.sqrt(np.mean(lead**2)))
        assert 5 < ratio < 20, (take.spec.id, ratio)


def _spec(kind: str, intent: str = "", **slots: object) -> TakeSpec:
    spec = next(s for s in corpus_specs() if s.kind == kind)
    return replace(spec, request=Request("x", intent, dict(slots), "ours" if intent else ""))


def _turn(*events: Event) -> list[Event]:
    return [WakeEvent(t=1.0, model="hey_jarvis", score=0.9), *events]


def test_classify_names_every_outcome() -> None:
    timer = _spec("command", "HassStartTimer", minutes=20)
    intent = IntentEvent(t=2, name="HassStartTimer", slots={"minutes": 20}, text="", skill="timers")
    wrong = IntentEvent(t=2, name="HassStartTimer", slots={"minutes": 14}, text="", skill="timers")
    other = IntentEvent(t=2, name="HassSetVolume", slots={"volume_level": 2}, text="", skill="v")
    sorry = [NotRecognizedEvent(t=2, text="", reason="poor"), ReplyEvent(t=2, text="Sorry")]
    assert classify(timer, _turn(intent)).outcome == "right"
    assert classify(timer, _turn(wrong)).outcome == "wrong_slot"
    assert classify(timer, _turn(other)).outcome == "wrong_intent"
    assert classify(timer, _turn(*sorry)).outcome == "rejected"
    assert classify(timer, _turn(intent, other)).outcome == "extra_intent"
    assert classify(timer, []).outcome == "no_wake"
    oog = _spec("out_of_grammar")
    assert classify(oog, _turn(*sorry)).outcome == "rejected"
    assert classify(oog, _turn(other)).outcome == "acted"
    silent = _spec("no_wake")
    assert classify(silent, []).outcome == "ignored"
    assert classify(silent, _turn()).outcome == "false_wake"
    assert classify(timer, _turn(*sorry)).reason == "poor"


def test_the_scorer_runs_the_real_lite_satellite(lite: Scorer, corpus: list[CorpusTake]) -> None:
    picked = [
        t
        for t in corpus
        if t.spec.condition == "clean" and not t.spec.extra and t.spec.family == "espeak"
    ]
    sample = [t for t in picked if t.spec.kind == "command"][:6]
    sample += [t for t in picked if t.spec.kind != "command"][:6]
    results = lite.run(sample)
    assert [r.spec for r in results] == [t.spec for t in sample]
    for result in results:
        assert result.seconds > 0
        if result.spec.kind == "no_wake":
            assert result.outcome in ("ignored", "false_wake")
        else:
            assert result.outcome != "no_wake", result.spec.id  # espeak wakes it when clean
            assert result.stt_ms is not None and result.stt_ms > 0
        if result.outcome == "rejected":
            assert result.reply.startswith("Sorry") and result.reason
    assert sum(r.outcome == "right" for r in results) >= 3


def test_the_satellite_is_the_assembly_s(lite: Scorer) -> None:
    assert isinstance(lite.satellite, Satellite)
    assert lite.satellite.config.stt.engine == "moonshine"
    assert lite.satellite.config.stt.moonshine.hold.enabled
    assert lite.satellite.config.llm.enabled is False
    assert "desk lamp" in lite.satellite.config.skills.devices
