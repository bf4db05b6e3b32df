"""Issue 11's targets on the whole recognition corpus (tests/recognition_corpus.py), through the
real satellite: Moonshine tiny held to the skills, the default recogniser of the full profile
(language model off) and of the lite profile. What is asserted is what was measured
(docs/RECOGNITION.md):
no wrong slot value and no out-of-grammar action in any voice family, nothing without the wake
word, and the share of woken commands right on the held-out half at least the floor below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from tests.recognition import Result, Scorer, corpus_config
from tests.recognition_corpus import CorpusBuilder, CorpusTake, corpus_specs
from tests.recognition_summary import confusions, describe, grouped
from tests.recordings import Recordings
from tests.voices import Speaker

FLOOR: Final = {"espeak": 60.0, "piper": 85.0}
"""Right % of the held-out commands that woke the satellite, per voice family (measured
2026-12-02: see docs/RECOGNITION.md)."""


@pytest.fixture(scope="module")
def corpus(models_dir: Path) -> list[CorpusTake]:
    store_speaker = Speaker(models_dir)
    return CorpusBuilder(store_speaker, Recordings(models_dir)).build(corpus_specs())


@pytest.fixture(scope="module", params=["full", "lite"])
def results(
    request: pytest.FixtureRequest,
    models_dir: Path,
    corpus: list[CorpusTake],
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Result]:
    from satellite.models.locate import open_store

    store = open_store(str(models_dir))
    store.pull(["moonshine_tiny"])
    assert store.verify(["moonshine_tiny"]) == []
    profile = request.param
    state = tmp_path_factory.mktemp(f"corpus-{profile}")
    config = corpus_config(models_dir, profile, state)  # both profiles' default recogniser
    assert config.stt.engine == "moonshine" and config.stt.moonshine.hold.enabled
    scorer = Scorer.for_config(config)
    try:
        return scorer.run(corpus)
    finally:
        scorer.close()


def _bad(results: list[Result], outcome: str) -> list[str]:
    return [describe(r) for r in confusions(results) if r.outcome == outcome]


def test_no_wrong_slot_value_in_any_family(results: list[Result]) -> None:
    assert _bad(results, "wrong_slot") == []


def test_no_out_of_grammar_request_is_acted_on(results: list[Result]) -> None:
    assert _bad(results, "acted") == []


def test_no_wrong_intent_and_no_second_intent(results: list[Result]) -> None:
    assert _bad(results, "wrong_intent") + _bad(results, "extra_intent") == []


def test_nothing_happens_without_the_wake_word(results: list[Result]) -> None:
    assert _bad(results, "false_wake") == []


@pytest.mark.parametrize("family", sorted(FLOOR))
def test_held_out_commands_are_right_at_the_measured_floor(
    results: list[Result], family: str
) -> None:
    held_out = [r for r in results if r.spec.split == "held_out" and r.spec.family == family]
    (summary,) = grouped(held_out, "all")
    assert summary.right_woken_pct is not None
    missed = [describe(r) for r in confusions(held_out) if r.spec.kind == "command"]
    assert summary.right_woken_pct >= FLOOR[family], "\n".join(missed)
