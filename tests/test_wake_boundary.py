"""Where the command starts after microWakeWord wakes: measured like openWakeWord's
(tests/test_listening.py, docs/LISTENING.md), on the Piper voice, where microWakeWord's
hey_jarvis wakes (it misses most espeak-ng takes), and for okay_nabu on espeak-ng too.

Every take's word timing is known (tests/listening_takes.py), so segments are checked against
it: after a pause, start and end within 150 ms; without one, the command's first word kept (the
start within 150 ms, never later) and the end within 150 ms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.app.loaders import load_listener
from satellite.config import Config
from satellite.voice.listener import Listener
from tests.listening_takes import TOLERANCE, Boundary, espeak_cases, measure, piper_cases
from tests.voices import Speaker


def listener(models_dir: Path, model: str) -> Listener:
    config = Config.from_dict(
        {
            "models": {"dir": str(models_dir)},
            "wake": {"engine": "microwakeword", "models": [{"name": model}]},
        }
    )
    return load_listener(config)


@pytest.fixture(scope="module")
def jarvis(micro_models: Path) -> list[Boundary]:
    speaker = Speaker(micro_models)
    lst = listener(micro_models, "hey_jarvis")
    return [
        b
        for split in ("tune", "held_out")
        for b in measure(lst, speaker, piper_cases("hey jarvis", split))
    ]


def no_pause(results: list[Boundary]) -> list[Boundary]:
    return [b for b in results if b.case.pause == 0 and b.start_error is not None]


def test_hey_jarvis_wakes_on_the_piper_listening_takes(jarvis: list[Boundary]) -> None:
    assert len(jarvis) == 96
    assert sum(b.woke for b in jarvis) >= 0.9 * len(jarvis)
    missed = [b.case for b in jarvis if not b.woke]
    assert all(case.pause == 0 for case in missed), missed


def test_after_a_pause_the_segment_matches_the_command(jarvis: list[Boundary]) -> None:
    paused = [b for b in jarvis if b.case.pause > 0]
    assert all(b.start_error is not None for b in paused)
    assert sum(b.on_time for b in paused) >= 0.95 * len(paused), [
        (b.start_error, b.end_error) for b in paused if not b.on_time
    ]


def test_without_a_pause_the_first_word_is_kept(jarvis: list[Boundary]) -> None:
    direct = no_pause(jarvis)
    assert len(direct) >= 40
    starts = [b.start_error for b in direct if b.start_error is not None]
    assert all(abs(s) <= TOLERANCE for s in starts), starts
    ends = [b.end_error for b in direct if b.end_error is not None]
    assert sum(abs(e) <= TOLERANCE for e in ends) >= 0.9 * len(ends), ends


def test_okay_nabu_boundaries_in_both_families(micro_models: Path) -> None:
    speaker = Speaker(micro_models)
    lst = listener(micro_models, "okay_nabu")
    results = measure(lst, speaker, espeak_cases("okay nabu"))
    results += measure(lst, speaker, piper_cases("okay nabu", "tune"))
    direct = no_pause(results)
    assert len(direct) >= 15
    starts = [b.start_error for b in direct if b.start_error is not None]
    assert all(abs(s) <= TOLERANCE for s in starts), starts
    paused = [b for b in results if b.case.pause > 0 and b.start_error is not None]
    assert sum(b.on_time for b in paused) >= 0.95 * len(paused)
