"""The `openai` language-model engine against a real OpenAI-compatible server on a free
loopback port: llama-cpp-python's (`python -m llama_cpp.server`) on the synthetic LFM2 GGUF
the bench builds (random weights: the machinery is checked, not the words).

Streamed answers, the intent pass held to the skills' JSON schema by the server, the
templates first; faults: the server killed, nothing listening, a server that never answers
(a stopped process), each answered by the local model when one is loaded, else by a short
apology.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from satellite.app.loaders import load_language_model, load_moonshine, load_stt, open_tts
from satellite.audio.sinks import NullSink
from satellite.config import Config, ModelsConfig
from satellite.errors import ConfigError
from satellite.events import IntentEvent, ReplyEvent, TranscriptEvent, UtteranceEvent
from satellite.llm.config import LlmConfig
from satellite.llm.fallback import LlmFallback, LlmTiming
from satellite.llm.openai import OpenAiEngine
from satellite.llm.openai import _parse_intent as parse_intent
from satellite.llm.openai_config import OpenAiConfig
from satellite.llm.prompt import LlmError
from satellite.llm.schema import IntentSchemaError, check_intent, choices_from_hassil
from satellite.skills import SkillSet
from satellite.skills.config import SkillsConfig
from satellite.stt.moonshine_config import MoonshineConfig
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig
from satellite.voice.assistant import SORRY, Assistant
from satellite.voice.speaker import Speaker
from tests.full_fixtures import build_gguf
from tests.remote_peers import Peer, closed_port, free_port, llama_server
from tests.speech import speak

QUICK = {"connect_timeout": 5.0, "response_timeout": 60.0, "retry_after": 0.2}
"""Where the server is meant to answer: patient (this box may be busy)."""


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_gguf(tmp_path_factory.mktemp("gguf") / "lfm2.gguf")


@pytest.fixture(scope="module")
def server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with llama_server(gguf, free_port(), log) as peer:
        yield peer


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    return SkillSet(SkillsConfig(state_dir=str(tmp_path_factory.mktemp("state"))))


def config_for(port: int, gguf: Path, **openai: Any) -> LlmConfig:
    settings = OpenAiConfig(
        base_url=f"http://127.0.0.1:{port}/v1",
        **{"intent_constraint": "json_object", **QUICK, **openai},
    )
    return LlmConfig(enabled=True, engine="openai", model=str(gguf), openai=settings, threads=1)


def remote(port: int, gguf: Path, **openai: Any) -> OpenAiEngine:
    engine = load_language_model(config_for(port, gguf, **openai), "")
    assert isinstance(engine, OpenAiEngine)
    return engine


def test_answers_stream_piece_by_piece_and_join_the_history(server: Peer, gguf: Path) -> None:
    engine = remote(server.port, gguf)
    pieces = list(engine.answer("why is the sky blue"))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert list(engine.history) == [("why is the sky blue", "".join(pieces).strip())]
    again = engine._chat_request("and at night")
    assert [m["role"] for m in again["messages"]] == ["system", "user", "assistant", "user"]
    assert engine.remote_turns == 1 and engine.fallback_turns == 0


def test_the_intent_pass_is_held_to_the_schema_by_the_server(
    server: Peer, gguf: Path, skills: SkillSet
) -> None:
    engine = remote(server.port, gguf)
    llm = LlmFallback(engine, skills)
    for text in ("could you make it brighter in here", "i would like some quiet please"):
        reply = engine.choose_intent(text, llm.schema)
        jsonschema.validate(reply, llm.schema)
        check_intent(reply, llm.choices)
    assert engine.remote_turns == 2


def test_the_servers_grammar_holds_the_intent_pass_to_the_intents(
    server: Peer, gguf: Path, skills: SkillSet
) -> None:
    """`intent_constraint: grammar`: a GBNF grammar of the skills' intents and slots in the
    request; llama-cpp-python's server compiles it (a grammar it cannot parse would be an
    HTTP error) and a random-weight model's every reply is one of the intents."""
    engine = remote(server.port, gguf, intent_constraint="grammar")
    llm = LlmFallback(engine, skills)
    body = engine._intent_request("dim the lights", llm.schema)
    assert "response_format" not in body and body["grammar"].startswith("root ::= ")
    seen = set()
    for text in ("could you make it brighter in here", "i would like quiet", "hm"):
        reply = engine.choose_intent(text, llm.schema)
        jsonschema.validate(reply, llm.schema)
        seen.add(check_intent(reply, llm.choices)["intent"])
    assert engine.remote_turns == 3 and engine.fallback_turns == 0 and seen


def test_unconstrained_free_json_that_is_no_intent_is_never_acted_on(
    server: Peer, gguf: Path, skills: SkillSet, models_dir: Path
) -> None:
    """`intent_constraint: none` (a server that constrains nothing): the random-weight model's
    free text is no intent; the turn says sorry and acts on nothing, and the server is not
    taken for a failing one (the answer after it comes from the server)."""
    engine = remote(server.port, gguf, intent_constraint="none")
    body = engine._intent_request("dim the lights", LlmFallback(engine, skills).schema)
    assert "response_format" not in body and "grammar" not in body
    stt = load_stt(Config(models=ModelsConfig(dir=str(models_dir))), skills)
    assistant = Assistant(skills, stt, llm=LlmFallback(engine, skills))
    text = "would you be so kind as to dim it"
    assert skills.recognize(text) is None
    events = list(assistant.respond(text, 1.0))
    assert not [e for e in events if isinstance(e, IntentEvent)]
    assert [e.text for e in events if isinstance(e, ReplyEvent)] == [SORRY]
    assert engine.remote_turns == 0
    assert list(engine.answer("why is the sky blue")) and engine.remote_turns == 1


@pytest.mark.parametrize(
    ("content", "intent"),
    [
        ('{"intent": "HassTurnOn", "slots": {"area": "kitchen"}}', "HassTurnOn"),
        ('```json\n{"intent": "none", "slots": {}}\n```', "none"),
        ('```\n{"intent": "HassGetCurrentTime", "slots": {}}\n```', "HassGetCurrentTime"),
    ],
)
def test_free_json_replies_are_parsed_and_checked(
    content: str, intent: str, skills: SkillSet
) -> None:
    choices = choices_from_hassil(skills.intents)
    assert check_intent(parse_intent(content), choices)["intent"] == intent


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("Sure! The intent is HassTurnOn.", LlmError),
        ('{"intent": "HassTurnOn", "slots": {"area": "kitch', LlmError),
        ('["HassTurnOn"]', LlmError),
        ('{"intent": "HassUnlockEverything", "slots": {}}', IntentSchemaError),
        ('{"intent": "HassTurnOn", "slots": {"area": "the moon"}}', IntentSchemaError),
        ('{"intent": "HassTurnOn"}', IntentSchemaError),
    ],
)
def test_free_json_that_is_not_an_intent_is_refused(
    content: str, error: type[Exception], skills: SkillSet
) -> None:
    choices = choices_from_hassil(skills.intents)
    with pytest.raises(error):
        check_intent(parse_intent(content), choices)


def test_close_ends_a_stream_under_way_and_refuses_new_requests(server: Peer, gguf: Path) -> None:
    engine = remote(server.port, gguf)
    pieces = engine.answer("tell me a long story about the sea")
    assert next(pieces)
    engine.close()
    with pytest.raises(LlmError, match="closed"):
        list(pieces)
    with pytest.raises(LlmError, match="closed"):
        engine.choose_intent("hello", {"anyOf": []})


def test_templates_first_the_server_only_for_what_they_miss(
    server: Peer, gguf: Path, skills: SkillSet
) -> None:
    engine = remote(server.port, gguf)
    llm = LlmFallback(engine, skills)
    assert skills.recognize("turn on the kitchen light") is not None
    assert llm.skills.recognize("tell me about the sea") is None
    timing = LlmTiming()
    sentences = list(llm.answer("tell me about the sea", timing))
    assert sentences and timing.first_token_ms() is not None
    assert engine.remote_turns == 1


def test_server_killed_the_local_model_answers(
    gguf: Path, tmp_path: Path, skills: SkillSet
) -> None:
    port = free_port()
    with llama_server(gguf, port, tmp_path / "server.log") as peer:
        engine = remote(port, gguf, fallback=True)
        assert engine.fallback is not None
        llm = LlmFallback(engine, skills)
        assert list(engine.answer("hello there")) and engine.remote_turns == 1
        peer.kill()
        pieces = list(engine.answer("tell me a story"))
        assert pieces and engine.fallback_turns == 1
        reply = engine.choose_intent("tell me a story", llm.schema)
        jsonschema.validate(reply, llm.schema)
        assert engine.fallback_turns == 2


def test_nothing_listening_is_an_llm_error_and_the_turn_apologises(
    gguf: Path, skills: SkillSet, full_models: Path
) -> None:
    """A spoken request no template matches, heard by Moonshine; the server is not there and
    no local model is loaded: the turn says sorry, and acts on nothing."""
    engine = remote(closed_port(), gguf)
    with pytest.raises(LlmError, match="cannot reach the language model server"):
        list(engine.answer("why is the sky blue"))
    sink = NullSink()
    speaker = Speaker(open_tts(TtsConfig()), sink, EarconConfig(enabled=False))
    stt = load_moonshine(MoonshineConfig(), str(full_models))
    assistant = Assistant(skills, stt, speaker=speaker, llm=LlmFallback(engine, skills))
    audio = speak("tell me a story about the sea", "en-us", 150)
    events = list(
        assistant(UtteranceEvent(t=1.0, start=0.0, end=1.0, reason="silence", audio=audio))
    )
    heard = [e.text for e in events if isinstance(e, TranscriptEvent)]
    assert heard and skills.recognize(heard[0]) is None
    assert not [e for e in events if isinstance(e, IntentEvent)]
    assert [e.text for e in events if isinstance(e, ReplyEvent)] == [SORRY]
    assert sink.samples_played > 4000


def test_a_server_that_never_answers_times_out(server: Peer, gguf: Path) -> None:
    engine = remote(server.port, gguf, response_timeout=2.0)
    server.pause()
    try:
        with pytest.raises(LlmError, match="did not answer in time"):
            list(engine.answer("why is the sky blue"))
    finally:
        server.resume()


def test_bad_openai_settings_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_dict({"llm": {"engine": "openai", "openai": {"base_url": "ftp://x"}}})
    assert any(p.startswith("llm.openai.base_url: expected") for p in caught.value.problems)


def test_check_finds_the_server(server: Peer, gguf: Path) -> None:
    from satellite.commands.check import check_remote

    config = Config.from_dict(
        {
            "llm": {
                "enabled": True,
                "engine": "openai",
                "model": str(gguf),
                "openai": {"base_url": f"http://127.0.0.1:{server.port}/v1"},
            }
        }
    )
    assert check_remote(config) == []
    assert remote(server.port, gguf).api.get("models")["data"]


def test_the_key_comes_from_the_environment_variable(
    gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    with llama_server(gguf, port, tmp_path / "server.log", api_key="s3cret-key"):
        monkeypatch.delenv("SATELLITE_TEST_LLM_KEY", raising=False)
        without = remote(port, gguf, api_key_env="SATELLITE_TEST_LLM_KEY")
        with pytest.raises(LlmError, match="HTTP 401"):
            list(without.answer("hello"))
        monkeypatch.setenv("SATELLITE_TEST_LLM_KEY", "s3cret-key")
        keyed = remote(port, gguf, api_key_env="SATELLITE_TEST_LLM_KEY")
        assert list(keyed.answer("hello")) and keyed.remote_turns == 1
