"""Wake decisions of both engines on the wake corpus (tests/wake_corpus.py): the recognition
corpus said with each wake phrase in espeak-ng and the Piper voice, its speech without the wake
word and human recordings, and phrases that sound like the wake phrase.

The figures (docs/LISTENING.md, "Two engines") are what `scripts/wake_report.py` prints. Where a
model falls short of what issue 17 asks (no false wake at all; okay_nabu's 95 %), the takes it
gets wrong are listed here by id, with the reason, so that any change shows: a new miss or a
new false wake fails, and so does a listed one that goes right (then the list shrinks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from satellite.app.loaders import load_listener
from satellite.config import Config
from tests.recognition_corpus import CorpusBuilder, TakeSpec, corpus_specs
from tests.recordings import Recordings
from tests.voices import Speaker
from tests.wake_corpus import WakeOutcome, held_for_wakes, run_listener, summarise, wake_takes

KNOWN_FALSE_WAKES: Final = {
    ("microwakeword", "hey_jarvis"): {
        "no_wake/piper/08": 'Piper\'s "hey travis, what time is it" scores 0.995',
    },
    ("microwakeword", "okay_nabu"): {
        "similar/espeak:en-us+m3@160 wpm/0": '"okay now, turn it off"',
        "similar/espeak:en+m7@160 wpm/0": '"okay now, turn it off"',
        "similar/espeak:en-gb@160 wpm/0": '"okay now, turn it off"',
        "similar/espeak:en-us@160 wpm/7": '"okay, new boots for the winter"',
        "similar/espeak:en-us+m3@160 wpm/7": '"okay, new boots for the winter"',
        "similar/piper:piper_joe_medium@1.2x/3": '"okay, no problem" (0.86 against 0.85)',
    },
    ("openwakeword", "hey_jarvis"): {},
}
"""Negatives each model is known to wake on (the issue asks for none)."""
BORDERLINE: Final = {
    ("microwakeword", "okay_nabu"): {
        "similar/piper:piper_joe_medium@1.3x/1": '"okay google, what time is it": 0.852 against '
        "0.85 on an AMD EPYC, under it elsewhere (the CPU's float kernels move Piper's audio)",
    },
}
"""Negatives that score within BORDER of the model's cutoff: whether they wake depends on the
CPU, so they may or may not wake, but never by more than BORDER."""
BORDER: Final = 0.02


@pytest.fixture(scope="module")
def builder(models_dir: Path) -> CorpusBuilder:
    return CorpusBuilder(Speaker(models_dir), Recordings(models_dir))


def outcomes(
    builder: CorpusBuilder,
    models_dir: Path,
    engine: str,
    model: str,
    family: str = "all",
    **settings: object,
) -> list[WakeOutcome]:
    """`settings`: more keys of the wake model's configuration (`confirm: True` loads held
    Moonshine for it)."""
    config = Config.from_dict(
        {
            "models": {"dir": str(models_dir)},
            "wake": {"engine": engine, "models": [{"name": model, **settings}]},
        }
    )
    takes = wake_takes(builder, model.replace("_", " "))
    chosen = [t for t in takes if family in ("all", t.family) or t.family == "human"]
    stt = held_for_wakes(str(models_dir)) if settings.get("confirm") else None
    return run_listener(load_listener(config, stt=stt), chosen, model)


def specs() -> dict[str, TakeSpec]:
    return {s.id: s for s in corpus_specs()}


def false_wakes(results: list[WakeOutcome]) -> set[str]:
    return {o.take.id for o in results if o.outcome == "false_wake"}


@pytest.fixture(scope="module")
def micro_jarvis(builder: CorpusBuilder, micro_models: Path) -> list[WakeOutcome]:
    return outcomes(builder, micro_models, "microwakeword", "hey_jarvis")


@pytest.fixture(scope="module")
def micro_nabu(builder: CorpusBuilder, micro_models: Path) -> list[WakeOutcome]:
    return outcomes(builder, micro_models, "microwakeword", "okay_nabu")


def test_micro_hey_jarvis_wakes_on_95_percent_of_the_piper_corpus(
    micro_jarvis: list[WakeOutcome],
) -> None:
    by_family = {s.family: s for s in summarise(micro_jarvis)}
    piper, human = by_family["piper"], by_family["human"]
    assert piper.positives == 130 and piper.rate >= 0.95, piper.line()
    assert human.right == human.positives == 4, human.line()
    # espeak-ng: reported as it is (12 %: docs/LISTENING.md), never asserted
    assert by_family["espeak"].positives == 130
    missed = [o for o in micro_jarvis if o.take.family == "piper" and o.outcome != "right"]
    assert all(specs()[o.take.id].pause == 0 for o in missed), [o.take.id for o in missed]


def test_micro_hey_jarvis_false_wakes_are_the_known_one(
    micro_jarvis: list[WakeOutcome],
) -> None:
    negatives = [o for o in micro_jarvis if o.take.wake is None]
    # espeak and Piper: 10 without the wake word + 8 similar phrases in 5 and 6 voices; human 11
    assert len(negatives) == (10 + 40) + (10 + 48) + 11
    known = KNOWN_FALSE_WAKES[("microwakeword", "hey_jarvis")]
    assert false_wakes(micro_jarvis) == set(known)


def test_micro_hey_jarvis_confirmed_by_moonshine_wakes_right_with_no_false_wake(
    builder: CorpusBuilder, micro_models: Path
) -> None:
    """Sensitive (0.5 instead of the model's 0.97) and confirmed by held Moonshine: Piper 130 /
    130, no false wake on the 119 negatives, "hey travis, what time is it" among them
    (docs/LISTENING.md, "A second opinion")."""
    results = outcomes(
        builder, micro_models, "microwakeword", "hey_jarvis", threshold=0.5, confirm=True
    )
    by_family = {s.family: s for s in summarise(results)}
    piper, human = by_family["piper"], by_family["human"]
    assert piper.positives == 130 and piper.rate >= 0.95, piper.line()
    assert human.right == human.positives == 4, human.line()
    assert len([o for o in results if o.take.wake is None]) == 119
    assert false_wakes(results) == set()
    # espeak-ng: reported as it is (21 %: the model's own misses), never asserted
    assert by_family["espeak"].positives == 130


def test_micro_okay_nabu_wakes_on_every_clean_piper_take_with_a_pause(
    micro_nabu: list[WakeOutcome],
) -> None:
    """okay_nabu needs a pause after the phrase and quiet: Piper 56 % over the whole corpus
    (docs/LISTENING.md), every clean take with a pause; human recordings after it too."""
    table = specs()
    clean_paused = [
        o
        for o in micro_nabu
        if o.take.family == "piper"
        and o.take.id in table
        and table[o.take.id].pause > 0
        and table[o.take.id].snr is None
        and o.take.wake is not None
    ]
    assert len(clean_paused) >= 30
    right = sum(o.outcome == "right" for o in clean_paused)
    assert right / len(clean_paused) >= 0.95, (right, len(clean_paused))
    by_family = {s.family: s for s in summarise(micro_nabu)}
    assert by_family["human"].right == 4
    assert by_family["piper"].positives == by_family["espeak"].positives == 130


def test_micro_okay_nabu_false_wakes_are_the_known_ones(micro_nabu: list[WakeOutcome]) -> None:
    known = KNOWN_FALSE_WAKES[("microwakeword", "okay_nabu")]
    borderline = BORDERLINE[("microwakeword", "okay_nabu")]
    assert false_wakes(micro_nabu) - set(borderline) == set(known)
    cutoff = 0.85  # okay_nabu.json's micro.probability_cutoff
    for o in micro_nabu:
        if o.take.id in borderline and o.outcome == "false_wake":
            assert max(w.score for w in o.wakes) < cutoff + BORDER, (o.take.id, o.wakes)


def test_openwakeword_on_the_piper_corpus(builder: CorpusBuilder, models_dir: Path) -> None:
    """The same corpus for the other engine (espeak-ng: tests/test_listening.py)."""
    results = outcomes(builder, models_dir, "openwakeword", "hey_jarvis", family="piper")
    by_family = {s.family: s for s in summarise(results)}
    assert by_family["piper"].right == by_family["piper"].positives == 130
    assert false_wakes(results) == set(KNOWN_FALSE_WAKES[("openwakeword", "hey_jarvis")])
