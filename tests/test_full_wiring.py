"""The `full` profile wired in: `stt.engine: moonshine`, `tts.engine: piper` and `llm:` from the
config, and the language model behind the templates in a turn. The models are the synthetic
ones of tests/full_fixtures.py (real interfaces, random or scripted weights), so the tests check
structure (which engine, which event source, schema-valid intents), not the models' quality."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from satellite.app.build import load_assistant
from satellite.app.loaders import open_tts
from satellite.audio.sinks import NullSink
from satellite.config import Config, TimeoutsConfig
from satellite.errors import ConfigError, ModelError
from satellite.events import (
    Event,
    IntentEvent,
    NotRecognizedEvent,
    ReplyEvent,
    TimingsEvent,
    TranscriptEvent,
    UtteranceEvent,
)
from satellite.llm.schema import NONE_INTENT
from satellite.skills import SkillsConfig, SkillSet
from satellite.stt.moonshine import MoonshineRecognizer
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig
from satellite.tts.piper import PiperTts
from satellite.voice.assistant import SORRY, Assistant
from satellite.voice.pipeline import run_handler
from satellite.voice.speaker import Speaker
from satellite.voice.state import StateMachine
from tests.full_fixtures import build_gguf, build_moonshine, build_piper_voice

FREE_REQUEST = "tell me a story about the sea"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder laid out as `satellite models pull --profile full` leaves it."""
    folder = tmp_path_factory.mktemp("models")
    build_moonshine(folder / "moonshine" / "tiny", FREE_REQUEST)
    build_gguf(folder / "LFM2-1.2B-Q4_K_M.gguf")
    build_piper_voice(folder / "piper", "en_US-joe-medium")
    return folder


def full_config(models: Path, tmp_path: Path, **skills: Any) -> Config:
    return Config.from_dict(
        {
            "models": {"dir": str(models)},
            "stt": {"engine": "moonshine", "moonshine": {"model": "tiny"}},
            "tts": {"engine": "piper", "piper": {"length_scale": 1.0}},
            "llm": {"enabled": True, "n_ctx": 1024, "max_tokens": 24, "threads": 1},
            "skills": {"state_dir": str(tmp_path), **skills},
        }
    )


def utterance(seconds: float = 3.0) -> UtteranceEvent:
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(int(16000 * seconds)) * 3000).astype(np.int16)
    return UtteranceEvent(t=seconds, start=0.0, end=seconds, reason="silence", audio=audio)


def run_turn(assistant: Assistant) -> list[Event]:
    return list(run_handler(assistant, utterance(), StateMachine(TimeoutsConfig())))


def test_config_selects_the_full_engines() -> None:
    config = Config.from_dict(
        {
            "stt": {"engine": "moonshine", "moonshine": {"model": "base", "threads": 2}},
            "tts": {"engine": "piper", "piper": {"model": "v.onnx", "speaker": 2}},
            "llm": {"enabled": True, "n_ctx": 1024},
        }
    )
    assert config.stt.engine == "moonshine" and config.stt.moonshine.model == "base"
    assert config.tts.engine == "piper" and config.tts.piper.speaker == 2
    assert config.llm.enabled and config.llm.n_ctx == 1024
    defaults = Config()
    assert (defaults.stt.engine, defaults.tts.engine, defaults.llm.enabled) == (
        "moonshine",
        "espeak",
        False,
    )


def test_bad_full_settings_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_dict(
            {
                "stt": {"engine": "whisper", "moonshine": {"model": "huge"}},
                "tts": {"engine": "festival", "piper": {"length_scale": 9}},
                "llm": {"enabled": "maybe"},
            }
        )
    message = str(caught.value)
    for key in ("stt.engine", "stt.moonshine.model", "tts.engine", "tts.piper.length_scale"):
        assert key in message
    assert "llm.enabled" in message
    with pytest.raises(ConfigError, match=r"llm\.n_ctx: expected 128\.\.32768"):
        Config.from_dict({"llm": {"enabled": True, "n_ctx": 5}})


def test_missing_full_models_say_how_to_get_them(tmp_path: Path) -> None:
    config = full_config(tmp_path / "empty", tmp_path)
    with pytest.raises(ModelError, match=r"satellite models pull --profile full"):
        load_assistant(config)
    with pytest.raises(ModelError, match=r"Piper voice.*--profile full"):
        open_tts(config.tts, config.models.dir)
    llm_only = Config.from_dict(  # pocketsphinx needs no model file: the language model's is missed
        {
            "llm": {"enabled": True},
            "stt": {"engine": "sphinx"},
            "models": {"dir": str(tmp_path / "empty")},
        }
    )
    with pytest.raises(ModelError, match=r"language model.*--profile full"):
        load_assistant(llm_only)


def test_missing_package_names_the_full_extra(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper now raises ImportError
    config = full_config(models, tmp_path)
    with pytest.raises(ModelError, match=r"satellite\[full\]"):
        open_tts(config.tts, config.models.dir)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ModelError, match=r"satellite\[full\]"):
        load_assistant(config)


def test_piper_voice_from_the_models_folder(models: Path, tmp_path: Path) -> None:
    config = full_config(models, tmp_path)
    tts = open_tts(config.tts, config.models.dir)
    assert isinstance(tts, PiperTts)
    chunks = list(tts.synthesize("Hello there. Good night."))
    assert len(chunks) == 2 and all(c.dtype == np.int16 and c.size for c in chunks)


def test_espeak_stays_the_default_engine() -> None:
    from satellite.tts.espeak import EspeakTts

    assert isinstance(open_tts(TtsConfig()), EspeakTts)


@pytest.fixture(scope="module")
def full_assistant(models: Path, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    config = full_config(models, tmp_path_factory.mktemp("state"))
    return load_assistant(config)


def test_moonshine_transcribes_and_the_llm_handles_what_no_template_matches(
    full_assistant: Assistant,
) -> None:
    assert isinstance(full_assistant.stt, MoonshineRecognizer)
    assert full_assistant.llm is not None
    events = run_turn(full_assistant)
    transcripts = [e for e in events if isinstance(e, TranscriptEvent)]
    assert [e.text for e in transcripts] == [FREE_REQUEST]
    assert full_assistant.skills.recognize(FREE_REQUEST) is None
    intents = [e for e in events if isinstance(e, IntentEvent)]
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    doubtful = [e for e in events if isinstance(e, NotRecognizedEvent)]
    assert len(replies) == 1 and replies[0].text
    if intents:  # the random model chose one of the skills' intents
        assert len(intents) == 1 and intents[0].source == "llm"
        assert intents[0].name in full_assistant.skills.intents.intents
        assert replies[0].intent == intents[0].name
    elif doubtful:  # it chose one, not surely enough (or with slots nobody said): no action
        assert [e.reason for e in doubtful] == [
            "no intent matches: no sentence of any skill is close to it"
        ]
        assert replies[0].text == SORRY
    else:  # it chose "none" and answered itself
        assert replies[0].source == "llm"
    timings = [e for e in events if isinstance(e, TimingsEvent)]
    assert len(timings) == 1 and timings[0].llm_total_ms is not None


def test_without_matching_intents_the_llm_answers_and_is_spoken(
    models: Path, tmp_path: Path
) -> None:
    config = full_config(models, tmp_path, builtins=False)
    sink = NullSink()
    speaker = Speaker(open_tts(config.tts, config.models.dir), sink, EarconConfig())
    assistant = load_assistant(config, speaker=speaker)
    assert assistant.llm is not None
    assert [c.name for c in assistant.llm.choices] == []  # the schema allows only "none"
    events = run_turn(assistant)
    assert not [e for e in events if isinstance(e, IntentEvent)]
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    assert len(replies) == 1 and replies[0].source == "llm" and replies[0].text
    assert "speaking" in [getattr(e, "state", "") for e in events]
    timings = next(e for e in events if isinstance(e, TimingsEvent))
    assert timings.llm_total_ms is not None and timings.llm_first_token_ms is not None
    assert timings.first_audio_ms is not None and sink.samples_played > 0


def test_llm_intent_choice_fits_the_schema(full_assistant: Assistant) -> None:
    llm = full_assistant.llm
    assert llm is not None
    from satellite.llm.fallback import LlmTiming
    from satellite.llm.guard import DoubtfulIntent

    for text in ("could you make it brighter in here", "i would like some quiet please"):
        timing = LlmTiming()
        try:
            match = llm.choose(text, timing)
        except DoubtfulIntent:  # random weights: rarely sure of anything
            match = None
        assert timing.total_ms() is not None
        if match is not None:
            assert match.intent in full_assistant.skills.intents.intents
            assert match.intent != NONE_INTENT and match.text == text


def test_skill_match_from_an_intent_and_slots(tmp_path: Path) -> None:
    skills = SkillSet(SkillsConfig(state_dir=str(tmp_path)))
    match = skills.match("HassTurnOn", {"area": "kitchen"}, "light up the kitchen")
    assert match is not None and match.intent == "HassTurnOn" and match.skill
    assert match.slots["area"] == "kitchen" and match.text == "light up the kitchen"
    template = skills.recognize("turn on the kitchen light")
    assert template is not None and match.spec == template.spec
    assert skills.match("NoSuchIntent", {}, "whatever") is None


def test_sentences_are_spoken_as_they_arrive(tmp_path: Path) -> None:
    """The second sentence is asked for only after the first one's audio went out."""
    sink = NullSink()
    speaker = Speaker(open_tts(TtsConfig()), sink, EarconConfig(enabled=False))
    played_before: list[int] = []

    def sentences() -> Iterator[str]:
        for sentence in ("The sea is wide.", "It is blue."):
            played_before.append(sink.samples_played)
            yield sentence

    timing = speaker.speak_sentences(sentences())
    assert played_before[0] == 0 and played_before[1] > 0
    assert timing.first_audio is not None and sink.samples_played > played_before[1]
