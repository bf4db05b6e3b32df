"""The language model alone, on the bench's questions: ours and llama-cpp-python used plainly.

Both sides get the same model file, context, threads, sampling and requests, and do the same
three things per request, timed separately:

- `intent`: pick an intent under the JSON-schema grammar of the loaded skills (with random
  weights the choice itself is random, so this path varies);
- `intent_none`: the same with a grammar that admits only "none": the path a real model takes
  for a question no skill handles;
- `answer`: stream the spoken answer; time to the first token, to the first sentence (what
  speech waits for), to the 16th token (a first sentence of about 12 words: random weights
  seldom end a sentence, so this stands for it) and to the end.

The reference renders each prompt whole with the GGUF's chat template and calls
`Llama.create_completion`, what a user of llama-cpp-python writes first; ours restores the saved
state of the static system prompt, stops an intent reply at "none", and cuts long sentences.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from satellite.bench.machine import peak_rss_mb
from satellite.config import Config
from satellite.llm.prompt import group_sentences


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@dataclass
class Timings:
    """Per request, milliseconds."""

    intent: list[float] = field(default_factory=list)
    intent_none: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    first_sentence: list[float] = field(default_factory=list)
    token_16: list[float] = field(default_factory=list)
    answer_total: list[float] = field(default_factory=list)
    answer_pieces: list[int] = field(default_factory=list)

    def time_intent(self, choose: Callable[[], object], *, none_only: bool) -> None:
        began = time.perf_counter()
        choose()
        (self.intent_none if none_only else self.intent).append(_ms(time.perf_counter() - began))

    def time_answer(self, pieces: Iterator[str]) -> None:
        began = time.perf_counter()
        counted: list[float] = []

        def watched() -> Iterator[str]:
            for piece in pieces:
                if piece:
                    counted.append(time.perf_counter())
                yield piece
                self.answer_pieces[-1] += 1

        self.answer_pieces.append(0)
        sentences = group_sentences(watched())
        next(sentences, None)
        self.first_sentence.append(_ms(time.perf_counter() - began))
        for _sentence in sentences:
            pass
        end = time.perf_counter()
        self.first_token.append(_ms((counted[0] if counted else end) - began))
        self.token_16.append(_ms((counted[15] if len(counted) > 15 else end) - began))
        self.answer_total.append(_ms(end - began))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _schemas(config: Config) -> tuple[dict[str, Any], dict[str, Any]]:
    from satellite.llm.schema import choices_from_hassil, intent_schema
    from satellite.skills import SkillSet

    return intent_schema(choices_from_hassil(SkillSet(config.skills).intents)), intent_schema([])


def probe_ours(config: Config, questions: list[str]) -> dict[str, Any]:
    """Our engine, its system prompts' states saved at start-up as in the satellite."""
    from satellite.app.loaders import load_llm

    began = time.perf_counter()
    engine = load_llm(config.llm, config.models.dir, config.models.manifest)
    load_ms = _ms(time.perf_counter() - began)
    skills, none_only = _schemas(config)
    for schema in (skills, none_only):
        engine.choose_intent("hello", schema)
    timings = Timings()
    for question in questions:
        timings.time_intent(partial(engine.choose_intent, question, skills), none_only=False)
        timings.time_intent(partial(engine.choose_intent, question, none_only), none_only=True)
        engine.reset()  # each question stands alone, as in the reference
        timings.time_answer(iter(engine.answer(question)))
    return {"load_ms": load_ms, **timings.to_dict(), "peak_rss_mb": peak_rss_mb()}


def probe_reference(config: Config, questions: list[str]) -> dict[str, Any]:
    """llama-cpp-python's `create_completion` with whole prompts."""
    try:
        from llama_cpp import Llama
    except ImportError as err:
        return {"error": f"no llama-cpp-python ({err}): pip install 'satellite[full]'"}
    from satellite.app.loaders import llm_file
    from satellite.llm.cpu import cpu_has_amx, model_defaults

    settings = config.llm
    began = time.perf_counter()
    with model_defaults(use_extra_bufts=not cpu_has_amx()):  # as ours: AMX crashes on Q4_K
        llm = Llama(
            model_path=str(llm_file(settings, config.models.dir, config.models.manifest)),
            n_ctx=settings.n_ctx,
            n_threads=settings.threads,
            use_mmap=settings.use_mmap,
            seed=settings.seed,
            verbose=False,
        )
    load_ms = _ms(time.perf_counter() - began)
    render = _renderer(llm)
    intents = [
        _intent_call(llm, render, schema, settings.intent_temperature)
        for schema in _schemas(config)
    ]
    timings = Timings()
    for question in questions:
        timings.time_intent(partial(intents[0], question), none_only=False)
        timings.time_intent(partial(intents[1], question), none_only=True)
        stream = llm.create_completion(
            render(settings.system_prompt, question),
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p,
            stream=True,
        )
        timings.time_answer(_texts(stream))
    rss = peak_rss_mb()
    return {"load_ms": load_ms, **timings.to_dict(), "peak_rss_mb": rss, "speed": _speed(llm)}


def _intent_call(
    llm: Any, render: Callable[[str, str], str], schema: dict[str, Any], temperature: float
) -> Callable[[str], object]:
    """question → the plain grammar-constrained completion of the intent prompt."""
    from llama_cpp.llama_grammar import LlamaGrammar

    from satellite.llm.engine import INTENT_SYSTEM
    from satellite.llm.schema import describe_schema

    system = INTENT_SYSTEM.format(intents=describe_schema(schema))
    grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)

    def call(question: str) -> object:
        prompt = render(system, question)
        return llm.create_completion(
            prompt, max_tokens=None, temperature=temperature, grammar=grammar
        )

    return call


def _texts(stream: Any) -> Iterator[str]:
    for chunk in stream:
        yield str(chunk["choices"][0]["text"])


def _speed(llm: Any, prompt_tokens: int = 300, generated: int = 32) -> dict[str, float]:
    """The model's own pace here: tokens per second evaluating a prompt, and generating."""
    vocab = llm.n_vocab()
    prompt = [100 + (i * 7919) % (vocab - 200) for i in range(prompt_tokens)]
    llm.reset()
    began = time.perf_counter()
    llm.eval(prompt)
    prefill = time.perf_counter() - began
    began = time.perf_counter()
    for count, _token in enumerate(llm.generate([], temp=0.0, reset=False), start=1):
        if count == generated:
            break
    generation = time.perf_counter() - began
    return {
        "prefill_tokens_per_s": round(prompt_tokens / prefill, 1),
        "generation_tokens_per_s": round(generated / generation, 1),
    }


def _renderer(llm: Any) -> Callable[[str, str], str]:
    """system + user → prompt text, by the chat template in the GGUF."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def piece(token: int) -> str:
        return bytes(llm.detokenize([token], special=True)).decode("utf-8", "replace")

    formatter = Jinja2ChatFormatter(
        template=llm.metadata.get("tokenizer.chat_template", ""),
        bos_token=piece(llm.token_bos()),
        eos_token=piece(llm.token_eos()),
    )

    def render(system: str, user: str) -> str:
        messages: list[Any] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        prompt: str = formatter(messages=messages).prompt
        return prompt

    return render
