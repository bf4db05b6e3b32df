"""The `openai` engine's intent pass under each `llm.openai.intent_constraint`, against one
llama-cpp-python server (`python -m llama_cpp.server`) on a free loopback port, side by side.

    PYTHONPATH=. python scripts/intent_constraints.py MODEL.gguf [--questions 4]

For each of the bench's questions, in alternating order, the intent pass is asked under
`grammar` (our GBNF of the intents), `json_object` (llama-cpp-python's own conversion of the
JSON schema) and `none` (free JSON); prints the median time and how many replies were one of
the skills' intents (`check_intent`). Nothing is asserted: the numbers go in docs/REMOTE.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from satellite.bench.corpus import QUESTIONS
from satellite.bench.llmserver import LlamaServer
from satellite.errors import SatelliteError
from satellite.llm.config import LlmConfig
from satellite.llm.openai import OpenAiEngine
from satellite.llm.openai_config import OpenAiConfig
from satellite.llm.schema import check_intent, choices_from_hassil, intent_schema
from satellite.skills import SkillsConfig, SkillSet

KINDS = ("grammar", "json_object", "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        choices = choices_from_hassil(SkillSet(SkillsConfig(state_dir=folder)).intents)
        schema = intent_schema(choices)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        valid = dict.fromkeys(KINDS, 0)
        server = LlamaServer(
            args.model, n_ctx=512, threads=args.threads, log_file=Path(folder) / "server.log"
        )
        with server:
            engines = {kind: _engine(server.base_url, kind) for kind in KINDS}
            engines["grammar"].choose_intent("hello", schema)  # the server's first request
            for number in range(args.questions):
                question = QUESTIONS[number % len(QUESTIONS)]
                for kind in KINDS if number % 2 == 0 else reversed(KINDS):
                    start = time.perf_counter()
                    try:
                        check_intent(engines[kind].choose_intent(question, schema), choices)
                        valid[kind] += 1
                    except SatelliteError:
                        pass
                    times[kind].append((time.perf_counter() - start) * 1000)
    print(f"{args.model.name}, {args.questions} questions, {platform.processor() or '?'}")
    for kind in KINDS:
        median = statistics.median(times[kind])
        print(f"{kind:<12} median {median:8.1f} ms  valid {valid[kind]} of {args.questions}")


def _engine(base_url: str, kind: str) -> OpenAiEngine:
    remote = OpenAiConfig(
        base_url=base_url,
        intent_constraint=kind,  # type: ignore[arg-type]
        response_timeout=300.0,
        retry_after=0.0,
    )
    return OpenAiEngine(LlmConfig(enabled=True, engine="openai", openai=remote))


if __name__ == "__main__":
    main()
