"""How sure the `openai` engine finds a server's intent picks, beside the local engine on the
same model, and what asking for the log-probabilities costs; one llama-cpp-python server
(`python -m llama_cpp.server`) on a free loopback port.

    PYTHONPATH=. python scripts/remote_pick_probability.py MODEL.gguf [--threads 2]

For each request: the server's pick (`intent_constraint: grammar`) with its probability read
from the log-probabilities (`satellite/llm/logprobs.py`), the local engine's pick with the
trie's probability, and the intent pass's time with and without `logprobs` asked for, in
alternating order. Nothing is asserted: the numbers go in docs/REMOTE.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from satellite.app.loaders import load_llm
from satellite.bench.llmserver import LlamaServer
from satellite.llm.config import LlmConfig
from satellite.llm.logprobs import intent_names, pick_probability
from satellite.llm.openai import PATH, OpenAiEngine
from satellite.llm.openai_config import OpenAiConfig
from satellite.llm.schema import choices_from_hassil, intent_schema
from satellite.skills import SkillsConfig, SkillSet

REQUESTS = (
    "what time is it right now",
    "could you make it brighter in here",
    "switch the kitchen light off please",
    "tell me about the sea",
    "how many legs does a spider have",
    "i would like some quiet please",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        schema = intent_schema(
            choices_from_hassil(SkillSet(SkillsConfig(state_dir=folder)).intents)
        )
        local = load_llm(LlmConfig(enabled=True, model=str(args.model), threads=args.threads), "")
        server = LlamaServer(
            args.model, n_ctx=1024, threads=args.threads, log_file=Path(folder) / "server.log"
        )
        with server:
            remote = _engine(server.base_url)
            remote.choose_intent("hello", schema)  # the server's first request
            timed: dict[bool, list[float]] = {True: [], False: []}
            for number, text in enumerate(REQUESTS):
                for asked in (True, False) if number % 2 == 0 else (False, True):
                    answer, ms = _ask(remote, text, schema, asked)
                    timed[asked].append(ms)
                    if asked:
                        name = json.loads(answer["choices"][0]["message"]["content"])["intent"]
                        p = pick_probability(answer, name, intent_names(schema))
                mine = local.choose_intent(text, schema)["intent"]
                q = local.last_intent_probability or 0.0
                print(f"{text!r:40} server {name:<22} p {p or 0:.3f}  local {mine:<22} p {q:.3f}")
    print(f"{args.model.name}, {len(REQUESTS)} requests, grammar, threads {args.threads}")
    for asked in (True, False):
        print(
            f"intent pass, logprobs {'asked' if asked else 'not asked'}: "
            f"median {statistics.median(timed[asked]):.1f} ms"
        )


def _ask(
    engine: OpenAiEngine, text: str, schema: dict[str, Any], asked: bool
) -> tuple[dict[str, Any], float]:
    body = engine._intent_request(text, schema)
    if not asked:
        body.pop("logprobs"), body.pop("top_logprobs")
    start = time.perf_counter()
    answer = engine.api.post(PATH, body)
    return answer, (time.perf_counter() - start) * 1000


def _engine(base_url: str) -> OpenAiEngine:
    remote = OpenAiConfig(
        base_url=base_url, intent_constraint="grammar", response_timeout=300.0, retry_after=0.0
    )
    return OpenAiEngine(LlmConfig(enabled=True, engine="openai", openai=remote))


if __name__ == "__main__":
    main()
