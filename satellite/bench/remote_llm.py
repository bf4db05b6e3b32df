"""`satellite bench --remote`, the language model's hop: the same model file answered by our
engine in this process and by llama-cpp-python's OpenAI-compatible server on a loopback port
through the `openai` engine (`llm.engine: openai`), question by question, in one run.

Per question, on each side (which goes first alternates): the intent pass over the skills'
intents (locally the name trie; remotely a JSON reply held to the intents by the server's
`grammar`), then the streamed answer: time to its first piece and to its end. The difference
is not only the socket: the server renders the whole prompt and decodes the intent as JSON
under a grammar where ours restores the system prompt's saved state and reads the names'
logits; the ratio says what moving the model off this process costs as a whole.
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from satellite.app.loaders import FullEngines, llm_file, missing_files
from satellite.bench.corpus import QUESTIONS
from satellite.bench.hops import summary
from satellite.bench.llmserver import LlamaServer, server_missing
from satellite.config import Config
from satellite.errors import SatelliteError
from satellite.llm.config import LlmConfig
from satellite.llm.openai_config import OpenAiConfig

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from satellite.llm.schema import IntentChoice

log = logging.getLogger(__name__)

LLM_STAGES: Final = ("llm_intent", "llm_first_token", "llm_answer")
CONSTRAINT: Final = "grammar"
"""How the server holds the intent reply to the intents (`llm.openai.intent_constraint`)."""


class Model(Protocol):
    def reset(self) -> None: ...
    def choose_intent(
        self, text: str, schema: dict[str, Any], examples: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]: ...
    def answer(self, text: str) -> Iterator[str]: ...


@dataclass
class LlmTimings:
    """Milliseconds per question for each stage, and pieces per answer, on each side."""

    local: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in LLM_STAGES})
    remote: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in LLM_STAGES})
    pieces: dict[str, list[int]] = field(default_factory=lambda: {"local": [], "remote": []})
    valid: dict[str, int] = field(default_factory=lambda: {"local": 0, "remote": 0})
    """Intent replies that were one of the intents with its slots (`check_intent`)."""


@dataclass(frozen=True)
class Measured:
    settings: LlmConfig
    """The local engine's settings, `model` the GGUF file both sides load."""
    name: str
    synthetic: bool


def llm_to_measure(config: Config, synthetic: bool) -> Measured | str:
    """The model to measure; a string saying why there is none here."""
    settings = dataclasses.replace(config.llm, enabled=True, engine="llama")
    problems = missing_files(FullEngines(llm=settings), config.models.dir, config.models.manifest)
    if not problems:
        path = llm_file(settings, config.models.dir, config.models.manifest)
        return Measured(dataclasses.replace(settings, model=str(path)), path.name, False)
    if not synthetic:
        return f"{problems[0]}; add --synthetic (LFM2-1.2B's shape) or --llm MODEL"
    from satellite.bench.fullsetup import STANDINS, synthetic_lfm2

    model = str(synthetic_lfm2())
    return Measured(dataclasses.replace(settings, model=model), STANDINS["llm"], True)


def run_llm_hop(config: Config, synthetic: bool, questions: int) -> dict[str, Any]:
    """The document's `llm` part: the stages' summaries, or `error` saying why none."""
    measured = llm_to_measure(config, synthetic)
    if isinstance(measured, str):
        return {"error": measured}
    missing = server_missing()
    if missing:
        return {"error": missing, "model": measured.name}
    asked = [QUESTIONS[n % len(QUESTIONS)] for n in range(questions)]
    try:
        timings = _measure_both(config, measured.settings, asked)
    except SatelliteError as err:
        return {"error": str(err), "model": measured.name}
    stages = {stage: summary(timings.local[stage], timings.remote[stage]) for stage in LLM_STAGES}
    return {
        "model": measured.name,
        "synthetic": measured.synthetic,
        "constraint": CONSTRAINT,
        "questions": questions,
        "stages": stages,
        "pieces_median": {side: statistics.median(n) for side, n in timings.pieces.items()},
        "valid_intents": timings.valid,
    }


def _measure_both(config: Config, settings: LlmConfig, questions: list[str]) -> LlmTimings:
    from satellite.app.loaders import load_llm
    from satellite.llm.openai import OpenAiEngine
    from satellite.llm.schema import choices_from_hassil
    from satellite.skills import SkillSet

    choices = choices_from_hassil(SkillSet(config.skills).intents)
    local = load_llm(settings, config.models.dir, config.models.manifest)
    with tempfile.TemporaryDirectory(prefix="satellite-llm-server-") as folder:
        server = LlamaServer(
            Path(settings.model),
            n_ctx=settings.n_ctx,
            threads=settings.threads,
            log_file=Path(folder) / "server.log",
        )
        with server:
            remote = OpenAiEngine(_remote_settings(settings, server.base_url))
            try:
                return measure_llm(local, remote, choices, questions)
            finally:
                remote.close()


def _remote_settings(settings: LlmConfig, base_url: str) -> LlmConfig:
    openai = OpenAiConfig(
        base_url=base_url,
        intent_constraint=CONSTRAINT,
        connect_timeout=10.0,
        response_timeout=300.0,
        retry_after=0.0,
    )
    return dataclasses.replace(settings, engine="openai", openai=openai)


def measure_llm(
    local: Model, remote: Model, choices: list[IntentChoice], questions: list[str]
) -> LlmTimings:
    from satellite.llm.schema import intent_schema

    schema = intent_schema(choices)
    timings = LlmTimings()
    sides = [("local", local, timings.local), ("remote", remote, timings.remote)]
    for side in sides:  # warm both: the saved prompt states, the server's first request
        _ask(side[1], "hello", schema, choices, {s: [] for s in LLM_STAGES}, [])
    for n, question in enumerate(questions):
        log.info("question %d of %d: %r", n + 1, len(questions), question)
        for name, model, record in sides if n % 2 == 0 else reversed(sides):
            valid = _ask(model, question, schema, choices, record, timings.pieces[name])
            timings.valid[name] += valid
    return timings


def _ask(
    model: Model,
    question: str,
    schema: dict[str, Any],
    choices: list[IntentChoice],
    record: dict[str, list[float]],
    pieces: list[int],
) -> bool:
    """One question: the intent pass, then the whole answer; True if the intent was valid."""
    from satellite.llm.schema import check_intent

    model.reset()  # each question stands alone
    start = time.perf_counter()
    try:
        check_intent(model.choose_intent(question, schema), choices)
        valid = True
    except SatelliteError:  # a reply not acted on: counted, not fatal
        valid = False
    record["llm_intent"].append(_ms(start))
    start, first, count = time.perf_counter(), None, 0
    for piece in model.answer(question):
        if piece and first is None:
            first = _ms(start)
        count += bool(piece)
    total = _ms(start)
    record["llm_first_token"].append(total if first is None else first)
    record["llm_answer"].append(total)
    pieces.append(count)
    return valid


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
