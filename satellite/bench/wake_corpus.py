"""The bench corpus in both voice families, for the wake engines' accuracy (`--compare`).

espeak-ng: the bench's own turns and idle audio (`satellite.bench.corpus`). The neural family:
the same commands, wake phrase and pauses spoken by the Piper voice `piper_joe_medium` at length
scales 0.9, 1.0 and 1.1, and the idle sentences once, when piper-tts is installed and the voice
pulled; otherwise the family is skipped with what to do.

Saved as arrays of the `--compare` audio file: `<family>_turns` (the turns one after the
other), `<family>_ends` (where each turn ends, in samples), `<family>_wakes` (start and end of
each wake phrase in its turn, seconds) and `<family>_idle`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from satellite.bench.corpus import (
    IDLE_SENTENCES,
    PAUSES,
    RATE,
    WAKE_PHRASE,
    Turn,
    pick,
    trim,
)
from satellite.config import Config
from satellite.voice.listener import Listener

FAMILIES: Final = ("espeak", "piper")
PIPER_VOICE: Final = "piper_joe_medium"
SCALES: Final = (0.9, 1.0, 1.1)
SEED: Final = 20261201
LEAD: Final = 0.8
"""Seconds of silence before each turn's wake phrase (as `satellite.bench.corpus`)."""


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.int16)


def family_arrays(
    family: str, turns: Sequence[np.ndarray], wakes: Sequence[tuple[float, float]], idle: np.ndarray
) -> dict[str, Any]:
    return {
        f"{family}_turns": np.concatenate(turns),
        f"{family}_ends": np.cumsum([len(t) for t in turns]),
        f"{family}_wakes": np.array(wakes, dtype=np.float64),
        f"{family}_idle": idle,
    }


def espeak_arrays(turns: Sequence[Turn], idle: np.ndarray) -> dict[str, Any]:
    wakes = [(LEAD, t.wake_end) for t in turns]
    return family_arrays("espeak", [t.audio for t in turns], wakes, idle)


def piper_arrays(config: Config, count: int) -> dict[str, Any]:
    """`count` turns and the idle sentences in the Piper voice; {"piper_skipped": why} when the
    voice cannot speak here."""
    from satellite.app.loaders import manifest_files
    from satellite.errors import SatelliteError
    from satellite.tts.piper import PiperConfig, PiperTts

    try:
        import onnxruntime

        onnxruntime.set_seed(SEED)  # Piper samples noise in its graph: the same speech each run
        model = manifest_files(config.models.dir, PIPER_VOICE, config.models.manifest)[0]
        if not model.is_file():
            raise SatelliteError(f"run `satellite models pull {PIPER_VOICE}`")
        voices = [PiperTts(model, settings=PiperConfig(length_scale=s)) for s in SCALES]
    except (SatelliteError, ImportError) as err:
        return {"piper_skipped": np.array(f"{err} (and pip install 'satellite[full]')")}

    def say(voice: PiperTts, text: str) -> np.ndarray:
        chunks = list(voice.synthesize(text))
        return trim(np.concatenate(chunks)) if chunks else _silence(0)

    turns, wakes = [], []
    for i in range(count):
        voice = voices[i % len(voices)]
        command, _ = pick(i, questions=False)
        wake = say(voice, WAKE_PHRASE)
        parts = [_silence(LEAD), wake, _silence(PAUSES[i % len(PAUSES)]), say(voice, command)]
        turns.append(np.concatenate([*parts, _silence(1.2)]))
        wakes.append((LEAD, LEAD + len(wake) / RATE))
    idle = np.concatenate(
        [
            part
            for i, s in enumerate(IDLE_SENTENCES)
            for part in (say(voices[i % 3], s), _silence(0.7))
        ]
    )
    return family_arrays("piper", turns, wakes, idle)


def split_turns(data: dict[str, Any], family: str) -> list[tuple[np.ndarray, tuple[float, float]]]:
    """The turns of `family` saved by `family_arrays`, each with its wake phrase's span."""
    audio, ends = data[f"{family}_turns"], data[f"{family}_ends"]
    starts = [0, *ends[:-1]]
    spans = [tuple(float(x) for x in row) for row in data[f"{family}_wakes"]]
    return [
        (audio[a:b], (span[0], span[1])) for a, b, span in zip(starts, ends, spans, strict=True)
    ]


def wake_accuracy(listener: Listener, data: dict[str, Any], family: str) -> dict[str, Any]:
    """Wake decisions on `family`'s turns (right: one wake, from the start of the phrase to a
    second after its end) and false wakes on its idle audio, each from a fresh stream."""
    if f"{family}_skipped" in data:
        return {"skipped": str(data[f"{family}_skipped"])}
    if f"{family}_turns" not in data:
        return {"skipped": "not in the audio file"}
    turns = split_turns(data, family)
    right = 0
    for audio, (start, end) in turns:
        listener.reset()
        wakes = [e for e in [*listener.feed(audio), *listener.finish()] if e.type == "wake"]
        right += len(wakes) == 1 and start < wakes[0].t <= end + 1.0
    listener.reset()
    idle = data[f"{family}_idle"]
    false = sum(e.type == "wake" for e in [*listener.feed(idle), *listener.finish()])
    return {
        "turns": len(turns),
        "right": right,
        "idle_seconds": round(len(idle) / RATE, 1),
        "false_wakes": false,
    }
