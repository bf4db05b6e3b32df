"""A server's intent pick is carried out only when its model was sure of it, as the local
engine's: the probability of the name among the intents, read from the token log-probabilities
the server sends back, must reach `min_intent_probability`. Against llama-cpp-python's real
server on the synthetic LFM2 GGUF (random weights: its picks are never sure of anything among
many intents, and sure of the only intent a one-intent schema allows).

A server that sends no log-probabilities is a real HTTP peer too: a pass-through in front of
llama-cpp-python's server that drops them from each answer, as servers without them answer.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from satellite.app.loaders import load_stt
from satellite.config import Config, ModelsConfig
from satellite.events import IntentEvent, ReplyEvent
from satellite.llm.fallback import LlmFallback
from satellite.llm.logprobs import TOP_LOGPROBS, intent_names, pick_probability
from satellite.llm.openai import PATH, OpenAiEngine
from satellite.skills import SkillSet
from satellite.skills.config import SkillsConfig
from satellite.voice.assistant import SORRY, Assistant
from tests.full_fixtures import build_gguf
from tests.remote_peers import Peer, free_port, llama_server
from tests.test_llm_openai import remote

SEA = "tell me about the sea"
"""No template matches it; the random model's pick for it is HassGetCurrentTime."""


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


@pytest.fixture(scope="module")
def unscored(server: Peer) -> Iterator[int]:
    """The port of a server that sends no log-probabilities (llama-cpp-python's, passed
    through with them dropped)."""
    upstream = f"http://127.0.0.1:{server.port}"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ask = urllib.request.Request(upstream + self.path, body, dict(self.headers))
            with urllib.request.urlopen(ask, timeout=120) as got:
                answer = json.loads(got.read())
            for choice in answer.get("choices", []):
                choice.pop("logprobs", None)
            out = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy.server_address[1]
    proxy.shutdown()
    proxy.server_close()


def only(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """`schema` allowing `name` alone (not even "none"): the model has nothing to choose."""
    return {"anyOf": [b for b in schema["anyOf"] if b["properties"]["intent"]["const"] == name]}


def turn(engine: OpenAiEngine, skills: SkillSet, models_dir: Path, alone: str = "") -> list[Any]:
    """The events of one assistant turn for `SEA`; the intents narrowed to `alone` if given."""
    llm = LlmFallback(engine, skills)
    if alone:
        llm.schema = only(llm.schema, alone)
    stt = load_stt(Config(models=ModelsConfig(dir=str(models_dir))), skills)
    assert skills.recognize(SEA) is None
    return list(Assistant(skills, stt, llm=llm).respond(SEA, 1.0))


def said(events: list[Any]) -> list[str]:
    return [e.text for e in events if isinstance(e, ReplyEvent)]


def done(events: list[Any]) -> list[str]:
    return [f"{e.name}:{e.source}" for e in events if isinstance(e, IntentEvent)]


def test_the_intent_pass_asks_for_log_probabilities(
    server: Peer, gguf: Path, skills: SkillSet
) -> None:
    engine = remote(server.port, gguf)
    body = engine._intent_request(SEA, LlmFallback(engine, skills).schema)
    assert body["logprobs"] is True and body["top_logprobs"] == TOP_LOGPROBS
    assert "logprobs" not in engine._chat_request(SEA)


def test_a_doubtful_server_pick_is_not_carried_out(
    server: Peer, gguf: Path, skills: SkillSet, models_dir: Path
) -> None:
    """The random model's pick among the skills' intents: a name it was not sure of."""
    for constraint in ("json_object", "grammar"):
        engine = remote(server.port, gguf, intent_constraint=constraint)
        events = turn(engine, skills, models_dir)
        probability = engine.last_intent_probability
        assert probability is not None and probability < engine.config.min_intent_probability
        assert done(events) == [] and said(events) == [SORRY]
        assert engine.remote_turns == 1 and engine.fallback_turns == 0


def test_a_sure_server_pick_is_carried_out(
    server: Peer, gguf: Path, skills: SkillSet, models_dir: Path
) -> None:
    """One intent allowed: every token of its name is forced, as the trie's would be."""
    engine = remote(server.port, gguf)
    events = turn(engine, skills, models_dir, alone="HassGetCurrentTime")
    assert engine.last_intent_probability == 1.0
    assert done(events) == ["HassGetCurrentTime:llm"] and said(events) != [SORRY]


def test_the_probability_is_read_from_the_servers_answer(
    server: Peer, gguf: Path, skills: SkillSet
) -> None:
    """On a real answer: the name's tokens are found and scored; without its log-probabilities,
    or for a name it does not spell, nothing can be told."""
    engine = remote(server.port, gguf)
    schema = LlmFallback(engine, skills).schema
    answer = engine.api.post(PATH, engine._intent_request(SEA, schema))
    name = json.loads(answer["choices"][0]["message"]["content"])["intent"]
    names = intent_names(schema)
    assert len(names) == len(schema["anyOf"]) and "none" in names
    probability = pick_probability(answer, name, names)
    assert probability is not None and 0.0 <= probability < 0.6
    assert pick_probability(answer, name, [name]) == 1.0
    other = next(n for n in names if n != name)
    assert pick_probability(answer, other, names) is None
    assert pick_probability(answer, "HassUnlockEverything", names) is None
    del answer["choices"][0]["logprobs"]
    assert pick_probability(answer, name, names) is None


@pytest.mark.parametrize("alone", ["", "HassGetCurrentTime"])
def test_an_unscored_pick_is_doubtful_by_default(
    unscored: int, gguf: Path, skills: SkillSet, models_dir: Path, alone: str
) -> None:
    engine = remote(unscored, gguf)
    events = turn(engine, skills, models_dir, alone)
    assert engine.last_intent_probability is None and engine.remote_turns == 1
    assert done(events) == [] and said(events) == [SORRY]


def test_trust_unscored_picks_carries_them_out(
    unscored: int, gguf: Path, skills: SkillSet, models_dir: Path
) -> None:
    engine = remote(unscored, gguf, trust_unscored_picks=True)
    events = turn(engine, skills, models_dir, alone="HassGetCurrentTime")
    assert engine.last_intent_probability is None
    assert done(events) == ["HassGetCurrentTime:llm"] and said(events) != [SORRY]
