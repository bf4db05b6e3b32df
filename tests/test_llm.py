"""Language model engine on llama-cpp-python with tiny random-weight GGUFs written by the `gguf`
package (tests/full_fixtures.py): `lfm2` (short-convolution + attention layers, hybrid memory)
like LFM2-1.2B, a byte-level BPE vocabulary and LFM2's ChatML-style chat template.

The model is random, so the tests check the machinery, not the words: generation, grammar-bound
output, state reuse (counted by llama.cpp's own performance counters), context limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hassil import Intents

from satellite.errors import ModelError
from satellite.llm.config import LlmConfig
from satellite.llm.engine import LlmEngine
from satellite.llm.ggufinfo import read_architecture
from satellite.llm.prompt import PromptTooLong, group_sentences
from satellite.llm.schema import (
    IntentSchemaError,
    check_intent,
    choice,
    choices_from_hassil,
    intent_schema,
)
from tests.full_fixtures import build_gguf

REQUESTS = [
    "turn on the kitchen light",
    "switch off the hall lamp",
    "set the brightness to forty",
    "what time is it",
    "tell me a joke",
    "set a timer for five minutes",
    "is it going to rain",
    "dim the bedroom",
    "play some music",
    "stop",
    "good morning",
    "lights off everywhere",
    "how warm is it outside",
    "turn the heating up",
    "cancel the timer",
    "who are you",
    "open the garage",
    "make it brighter in the kitchen",
    "volume down",
    "thank you",
]


def _decoded(engine: LlmEngine) -> tuple[int, int]:
    """(prompt tokens, single tokens) llama.cpp has run through the model so far, from its own
    performance counters (read after a sync; each counter reads 1 until it passes 1)."""
    import llama_cpp

    llama_cpp.llama_synchronize(engine._llm.ctx)
    perf = llama_cpp.llama_perf_context(engine._llm.ctx)
    return int(perf.n_p_eval), int(perf.n_eval)


@pytest.fixture(scope="module")
def lfm2_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_gguf(tmp_path_factory.mktemp("gguf") / "lfm2-tiny.gguf")


@pytest.fixture(scope="module")
def engine(lfm2_path: Path) -> LlmEngine:
    return LlmEngine(LlmConfig(model=str(lfm2_path), threads=1, max_tokens=24))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return intent_schema(
        [
            choice("TurnOn", "turn a light on", name=["kitchen", "hall", "bedroom"]),
            choice("SetBrightness", name=["kitchen", "hall"], brightness=range(0, 101)),
            choice("GetTime", "say the time"),
        ]
    )


def test_the_tiny_lfm2_model_loads_and_generates(engine: LlmEngine) -> None:
    assert engine.architecture == "lfm2"
    assert engine.n_ctx == 1024
    pieces = list(engine.answer("hello there"))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert 0 < engine.stats.generated <= 24
    reply = "".join(pieces).strip()
    if engine.history:
        assert engine.history[-1] == ("hello there", reply)
    else:  # random weights: the reply looped or held no word, and is not remembered
        assert engine.last_reply_end == "loop" or not re.search(r"[^\W\d_]{2,}", reply)


def test_turns_after_the_first_evaluate_only_their_new_tokens(lfm2_path: Path) -> None:
    engine = LlmEngine(LlmConfig(model=str(lfm2_path), threads=1, max_tokens=16))
    assert _decoded(engine) == (1, 1)  # nothing yet
    list(engine.answer("first question"))
    first = engine.stats
    assert first.prefix_evaluated == first.prefix_tokens > 10
    # the prefix and the request in batches, then each generated token fed back one by one
    # (a reply cut by its hygiene ends without evaluating the last token it was given)
    cut = 1 if engine.last_reply_end else 0
    assert _decoded(engine) == (first.prefix_tokens + first.new_tokens, first.generated - cut)
    for turn in range(2, 7):
        prompt_before, single_before = _decoded(engine)
        remembered = len(engine.history)  # random weights: a looping reply is not remembered
        list(engine.answer(f"question number {turn}"))
        stats = engine.stats
        assert stats.prefix_evaluated == 0  # restored from the saved state
        assert stats.history_used == min(remembered, 3)
        prompt_after, single_after = _decoded(engine)
        assert prompt_after - prompt_before == stats.new_tokens
        cut = 1 if engine.last_reply_end else 0
        assert single_after - single_before == stats.generated - cut


def test_a_restored_prefix_holds_one_row_of_logits_and_picks_the_same(
    lfm2_path: Path, schema: dict[str, Any]
) -> None:
    """llama-cpp-python's logits copy is one row, not n_batch (32 MiB for LFM2-1.2B), in the
    engine and in every saved state; a turn from the restored state picks what a fresh
    evaluation of the same prompt picks."""
    fresh = LlmEngine(LlmConfig(model=str(lfm2_path), threads=1))
    first = fresh.intent_json("switch the hall light on", schema)
    assert fresh.stats.prefix_evaluated > 0
    again = fresh.intent_json("switch the hall light on", schema)
    assert fresh.stats.prefix_evaluated == 0  # restored
    assert again == first
    assert fresh._llm.scores.shape == (1, fresh._llm.n_vocab())
    assert all(state.scores.shape[0] <= 1 for state in fresh._states.values())


def test_the_context_survives_fifty_turns(lfm2_path: Path) -> None:
    engine = LlmEngine(LlmConfig(model=str(lfm2_path), threads=1, n_ctx=256, max_tokens=48))
    for turn in range(50):
        request = f"turn {turn}: " + "please tell me something about the weather " * (turn % 4)
        reply = "".join(engine.answer(request))
        assert isinstance(reply, str)
        assert engine.stats.prefix_tokens + engine.stats.new_tokens + engine.stats.generated <= 256
    assert len(engine.history) == 3


def test_the_intent_is_always_valid_for_the_schema(
    engine: LlmEngine, schema: dict[str, Any]
) -> None:

    for request in REQUESTS:
        reply = engine.intent_json(request, schema)
        parsed = json.loads(reply)
        jsonschema.validate(parsed, schema)
        assert engine.choose_intent(request, schema) == parsed  # greedy: same answer again


def test_sampled_intents_stay_valid_on_every_branch(
    lfm2_path: Path, schema: dict[str, Any]
) -> None:

    config = LlmConfig(model=str(lfm2_path), threads=1, intent_temperature=1.5, top_p=1.0)
    engine = LlmEngine(config)
    seen = set()
    for request in REQUESTS:
        parsed = engine.choose_intent(request, schema)
        jsonschema.validate(parsed, schema)
        seen.add((parsed["intent"], tuple(sorted(parsed["slots"]))))
    assert len(seen) >= 3  # the random model wanders over several branches of the grammar


def test_intent_turns_reuse_the_schema_prefix(engine: LlmEngine, schema: dict[str, Any]) -> None:
    engine.choose_intent("turn on the kitchen light", schema)
    prompt_before, single_before = _decoded(engine)
    reply = engine.choose_intent("turn on the hall light", schema)
    assert engine.stats.prefix_evaluated == 0
    assert engine.stats.prefix_tokens > 50  # the instructions and the intents
    prompt_after, single_after = _decoded(engine)
    # the request, the name's tokens (one batch per place where the names part) and the slots
    # key are evaluated once each, then one decoding step per generated slot token
    decoded = prompt_after - prompt_before + single_after - single_before
    assert decoded == engine.stats.new_tokens + engine.stats.generated
    assert engine.last_intent_probability is not None
    assert 0.0 < engine.last_intent_probability <= 1.0
    assert reply["intent"] in ("TurnOn", "SetBrightness", "GetTime", "none")


def test_a_request_longer_than_the_context_is_refused(lfm2_path: Path) -> None:
    engine = LlmEngine(LlmConfig(model=str(lfm2_path), threads=1, n_ctx=128, max_tokens=32))
    with pytest.raises(PromptTooLong, match=r"the context window holds 128"):
        engine.answer("word " * 200)
    assert "".join(engine.answer("short one")) is not None  # still usable afterwards


def test_history_is_dropped_before_the_reply_is_squeezed(lfm2_path: Path) -> None:
    engine = LlmEngine(LlmConfig(model=str(lfm2_path), threads=1, n_ctx=160, max_tokens=32))
    engine.history.extend([("long question " * 10, "long answer " * 10)] * 3)
    list(engine.answer("and now?"))
    assert engine.stats.history_used < 3
    used = engine.stats.prefix_tokens + engine.stats.new_tokens
    assert used + 32 <= 160


def test_a_gguf_of_another_architecture_is_reported(tmp_path: Path) -> None:
    llama = build_gguf(tmp_path / "llama.gguf", "llama", layers=2)
    with pytest.raises(ModelError, match=r"is a 'llama' model; expected 'lfm2'"):
        LlmEngine(LlmConfig(model=str(llama), architectures=("lfm2",)))
    engine = LlmEngine(LlmConfig(model=str(llama), threads=1))  # any architecture by default
    assert engine.architecture == "llama"
    assert engine.format.name == "chat template"
    assert isinstance("".join(engine.answer("hi")), str)


def test_unknown_architecture_and_broken_files(tmp_path: Path, lfm2_path: Path) -> None:
    unknown = build_gguf(tmp_path / "mamba9.gguf", "mamba9")
    with pytest.raises(
        ModelError,
        match=rf"llama.cpp cannot load {unknown}: .*unknown model architecture: 'mamba9'",
    ):
        LlmEngine(LlmConfig(model=str(unknown)))
    assert read_architecture(unknown) == "mamba9"
    text = tmp_path / "model.gguf"
    text.write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelError, match=r"is not a GGUF file"):
        LlmEngine(LlmConfig(model=str(text)))
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(lfm2_path.read_bytes()[:64])
    with pytest.raises(ModelError, match=rf"cannot read the GGUF header of {truncated}"):
        LlmEngine(LlmConfig(model=str(truncated)))
    whole = lfm2_path.read_bytes()
    truncated.write_bytes(whole[: len(whole) - 4096])
    with pytest.raises(ModelError, match=rf"{truncated} is truncated: {len(whole) - 4096} bytes"):
        LlmEngine(LlmConfig(model=str(truncated)))
    with pytest.raises(ModelError, match=r"model file not found"):
        LlmEngine(LlmConfig(model=str(tmp_path / "missing.gguf")))


def test_a_model_without_chat_template_is_prompted_by_completion(tmp_path: Path) -> None:
    """A base model: a `Request:` / `Reply:` transcript with worked examples, the examples in the
    saved prefix; replies end at the line's end; intents are picked the same way."""
    bare = build_gguf(tmp_path / "bare.gguf", chat_template=None)
    engine = LlmEngine(LlmConfig(model=str(bare), threads=1, max_tokens=24))
    assert engine.format.name == "plain completion"
    reply = "".join(engine.answer("what is the capital of france"))
    assert "\n" not in reply and "Request:" not in reply
    prompt = engine._builder.build("Be brief.", [], "hello", 24, engine.format.answer_examples)
    text = bytes(engine._llm.detokenize(list(prompt.prefix + prompt.new))).decode()
    assert text.startswith("Be brief.\n\nRequest: how far away is the sun\nReply: About")
    assert text.endswith("Request: hello\nReply:")
    schema = intent_schema([choice("TurnOn", name=["kitchen", "hall"])])
    examples = [("turn on the hall", '{"intent": "TurnOn", "slots": {"name": "hall"}}')]
    assert engine.choose_intent("kitchen on", schema, examples)["intent"] in ("TurnOn", "none")
    engine.choose_intent("hall on", schema, examples)
    assert engine.stats.prefix_evaluated == 0  # the examples are in the saved prefix


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match=r"n_ctx"):
        LlmConfig(n_ctx=16)
    with pytest.raises(ValueError, match=r"kv_cache: expected q8_0 or f16, got 'q4'"):
        LlmConfig(kv_cache="q4")
    with pytest.raises(ValueError, match=r"min_intent_probability"):
        LlmConfig(min_intent_probability=1.5)
    with pytest.raises(ValueError, match=r"max_tokens"):
        LlmConfig(n_ctx=256, max_tokens=300)
    with pytest.raises(ValueError, match=r"top_p"):
        LlmConfig(top_p=0.0)


def test_sentences_are_grouped_from_a_token_stream() -> None:
    pieces = ["Hel", "lo there", ". How", " are you", "? I am", " Dr", ". Smith", "!\n", "Bye"]
    assert list(group_sentences(pieces)) == [
        "Hello there.",
        "How are you?",
        "I am Dr. Smith!",
        "Bye",
    ]
    assert list(group_sentences([])) == []
    assert list(group_sentences(["It costs 3", ".5 euros", "."])) == ["It costs 3.5 euros."]


def test_schema_from_hassil_intents() -> None:
    intents = Intents.from_dict(
        {
            "language": "en",
            "intents": {
                "TurnOn": {"data": [{"sentences": ["turn on [the] {name}", "{name} on"]}]},
                "SetBrightness": {
                    "data": [{"sentences": ["set {name} to {brightness} [percent]"]}]
                },
                "Say": {"data": [{"sentences": ["say {message}"]}]},
            },
            "lists": {
                "name": {"values": ["kitchen", {"in": "hall way", "out": "hall"}]},
                "brightness": {"range": {"from": 0, "to": 100}},
                "message": {"wildcard": True},
            },
        }
    )
    choices = {c.name: c for c in choices_from_hassil(intents)}
    assert set(choices) == {"SetBrightness", "Say", "TurnOn"}
    assert choices["TurnOn"].slots["name"].values == ("kitchen", "hall")
    assert choices["SetBrightness"].slots["brightness"].maximum == 100
    assert choices["Say"].slots["message"].kind == "text"
    schema = intent_schema(choices.values())
    good = {"intent": "SetBrightness", "slots": {"name": "hall", "brightness": 100}}
    assert check_intent(good, choices.values()) == good
    for bad in (
        {"intent": "SetBrightness", "slots": {"brightness": 101}},
        {"intent": "TurnOn", "slots": {"name": "garage"}},
        {"intent": "Fly", "slots": {}},
        {"intent": "none"},
    ):
        with pytest.raises(IntentSchemaError):
            check_intent(bad, choices.values())

    jsonschema.validate(good, schema)
    jsonschema.validate({"intent": "none", "slots": {}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"intent": "TurnOn", "slots": {"name": "garage"}}, schema)


def test_a_run_on_sentence_is_spoken_in_parts() -> None:
    words = "and the waves roll in from far away over the sand"
    text = "The sea is wide, " + " ".join([words] * 3) + " until night"
    pieces = [w + " " for w in text.split()]
    parts = list(group_sentences(pieces, long_words=8))
    assert parts[0] == "The sea is wide,"  # the last clause mark once past 8 words
    assert all(len(p.split()) <= 17 for p in parts)  # then every 2 x 8 words at the latest
    assert " ".join(parts) == text
    short = list(group_sentences(["A calm, ", "short one"], long_words=8))
    assert short == ["A calm, short one"]


def test_model_defaults_apply_only_while_a_model_loads() -> None:
    import llama_cpp.llama_cpp as low

    from satellite.llm.cpu import model_defaults

    assert low.llama_model_default_params().use_extra_bufts
    with model_defaults(use_extra_bufts=False):
        assert not low.llama_model_default_params().use_extra_bufts
    assert low.llama_model_default_params().use_extra_bufts


def test_q4_k_weights_load_and_generate(tmp_path: Path) -> None:
    """Quantised to Q4_K_M as the real LFM2 file is (on CPUs with AMX this needs `repack`
    off: llama.cpp's AMX kernels crash on Q4_K)."""
    from satellite.bench.synthetic.lfm2 import quantize_q4_k_m

    source = build_gguf(tmp_path / "f32.gguf", hidden=256, ffn=512)
    path = quantize_q4_k_m(source, tmp_path / "q4.gguf")
    engine = LlmEngine(LlmConfig(n_ctx=256, max_tokens=16, threads=1), path)
    assert "".join(engine.answer("hello there"))


def test_a_none_intent_stops_generation_early(engine: LlmEngine) -> None:
    from satellite.llm.engine import NONE_REPLY
    from satellite.llm.schema import intent_schema

    reply = engine.choose_intent("tell me a story", intent_schema([]))  # only "none" fits
    assert reply == {"intent": "none", "slots": {}}
    assert engine.stats.generated == 0 and engine.stats.new_tokens == 0  # nothing to ask
    assert engine.last_intent_probability == 1.0
    assert len(engine.tokenize(NONE_REPLY)) > 0


def test_the_first_clause_is_spoken_before_its_sentence_ends() -> None:
    """The voice begins at the reply's first clause mark once it has four words: the rest of
    the sentence is written while it is heard."""
    text = "The sky looks blue to us, because air scatters blue light the most. It is so."
    pieces = [w + " " for w in text.split()]
    seen: list[int] = []

    def watched() -> Iterator[str]:
        for i, piece in enumerate(pieces):
            seen.append(i)
            yield piece

    parts = []
    for part in group_sentences(watched()):
        parts.append((part, len(seen)))
    assert [p for p, _ in parts] == [
        "The sky looks blue to us,",
        "because air scatters blue light the most.",
        "It is so.",
    ]
    assert parts[0][1] == 6  # as soon as "us, " came, not at the end of the sentence
    # too short a first clause waits for more; later clauses wait for their sentence
    assert list(group_sentences(["Yes, ", "it is, ", "quite so."])) == ["Yes, it is, quite so."]
    later = list(group_sentences(["It is. ", "Then we go, ", "all of us, ", "home."]))
    assert later == ["It is.", "Then we go, all of us, home."]
