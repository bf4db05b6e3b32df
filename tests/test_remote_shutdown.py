"""Shutdown with every engine remote: a live satellite (`build(live=True)`, as `satellite run`
builds it) hearing and speaking through another satellite's `satellite serve` and answering
through llama-cpp-python's OpenAI-compatible server (a small random-weight LFM2 GGUF). After
`close()` none of the threads it started is alive, and a language-model stream that was
under way has ended."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from satellite.app.build import build
from satellite.config import Config
from satellite.events import ReplyEvent
from satellite.llm.openai import OpenAiEngine
from satellite.llm.prompt import LlmError
from satellite.stt.wyoming import WyomingRecognizer
from satellite.tts.wyoming import WyomingTts
from tests.full_fixtures import build_gguf
from tests.remote_peers import Peer, free_port, llama_server, satellite_serve
from tests.test_remote_serve import padded, write_serve_config

PATIENT = {"connect_timeout": 5.0, "response_timeout": 60.0, "fallback": "none"}


@pytest.fixture
def serve(models_dir: Path, tmp_path: Path) -> Iterator[Peer]:
    config = write_serve_config(tmp_path, models_dir)
    with satellite_serve(config, free_port(), tmp_path / "serve.log") as peer:
        yield peer


@pytest.fixture
def llm_server(tmp_path: Path) -> Iterator[Peer]:
    gguf = build_gguf(tmp_path / "lfm2.gguf")
    with llama_server(gguf, free_port(), tmp_path / "llama.log") as peer:
        yield peer


def remote_config(models_dir: Path, tmp_path: Path, serve: Peer, llm: Peer) -> Config:
    return Config.from_dict(
        {
            "models": {"dir": str(models_dir)},
            "mqtt": {"enabled": False},
            "earcons": {"enabled": False},
            "skills": {"state_dir": str(tmp_path / "state")},
            "stt": {"engine": "wyoming", "wyoming": {"uri": serve.uri, **PATIENT}},
            "tts": {"engine": "wyoming", "wyoming": {"uri": serve.uri, **PATIENT}},
            "llm": {
                "enabled": True,
                "engine": "openai",
                "model": str(tmp_path / "lfm2.gguf"),
                "openai": {
                    "base_url": f"http://127.0.0.1:{llm.port}/v1",
                    "intent_constraint": "grammar",
                    "connect_timeout": 5.0,
                    "response_timeout": 60.0,
                },
            },
        }
    )


def test_close_leaves_no_thread_of_the_remote_engines_alive(
    serve: Peer, llm_server: Peer, models_dir: Path, tmp_path: Path
) -> None:
    before = set(threading.enumerate())
    config = remote_config(models_dir, tmp_path, serve, llm_server)
    satellite = build(config, live=True, output="null")
    assistant = satellite.assistant
    stt, engine = assistant.stt, assistant.llm.engine if assistant.llm else None
    tts = assistant.speaker.tts if assistant.speaker else None
    assert isinstance(stt, WyomingRecognizer) and isinstance(tts, WyomingTts)
    assert isinstance(engine, OpenAiEngine)
    try:
        # no template matches: the server's model picks an intent (random weights: any) or
        # answers; either way the reply is spoken by the other satellite's voice
        steps = list(assistant.respond("tell me about the sea", 1.0))
        assert [s for s in steps if isinstance(s, ReplyEvent)] and engine.remote_turns >= 1
        assert tts.tally.remote >= 1 and tts.tally.fallback == 0  # spoken by the server
        said = padded(np.concatenate(list(tts.synthesize("Turn on the kitchen light."))))
        assert stt.transcribe(said).text == "turn on the kitchen light"  # heard by the server
        assert stt.tally.remote == 1
        started = [t for t in threading.enumerate() if t not in before]
        assert {"wyoming-speech", "wyoming-speech-to-text"} <= {t.name for t in started}
        stream = engine.answer("tell me a long story about the sea")
        assert next(stream)  # a stream under way at shutdown
    finally:
        satellite.close()
    with pytest.raises(LlmError, match="closed"):
        list(stream)
    alive = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert alive == []
