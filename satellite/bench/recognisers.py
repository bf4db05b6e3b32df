"""`--compare`: the speech-to-text engines side by side on the very utterances our VAD cut,
each in its own process (its load time and peak RSS are its own): pocketsphinx held to the
skills' grammar, plain Moonshine (free transcript, then the templates), and Moonshine held to
the skills' sentences (`satellite.stt.held`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from satellite.bench.machine import peak_rss_mb
from satellite.config import Config

RECOGNISERS: Final = {
    "sphinx": "pocketsphinx, skills' grammar",
    "moonshine": "Moonshine tiny, free",
    "held": "Moonshine tiny held to the skills",
}


def _load(name: str, config: Config) -> Any:
    from satellite.app.loaders import load_moonshine
    from satellite.skills import SkillSet

    skills = SkillSet(config.skills)
    if name == "sphinx":
        from satellite.stt.grammar import compile_grammar
        from satellite.stt.sphinx import SphinxRecognizer

        return SphinxRecognizer(compile_grammar(skills.intents), config.stt)
    models = config.models
    moonshine = load_moonshine(config.stt.moonshine, models.dir, models.manifest)
    if name == "moonshine":
        return moonshine
    from satellite.stt.held import HeldMoonshine

    return HeldMoonshine(moonshine, skills.intents, config.stt.moonshine.hold)


def recogniser_loop(name: str) -> Callable[[Config, dict[str, Any]], dict[str, Any]]:
    """A worker that loads recogniser `name` and transcribes every saved utterance."""

    def run(config: Config, data: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        try:
            stt = _load(name, config)
        except Exception as err:  # a missing model or package: reported, not raised
            return {"error": f"{RECOGNISERS[name]}: {err}"}
        load_ms = round((time.perf_counter() - began) * 1000, 3)
        texts, times = [], []
        for key in sorted(k for k in data if k.startswith("utt")):
            audio = np.ascontiguousarray(data[key], dtype=np.int16)
            began = time.perf_counter()
            heard = stt.transcribe(audio)
            times.append(round((time.perf_counter() - began) * 1000, 3))
            held = not heard.rejected and not getattr(heard, "out_of_grammar", False)
            texts.append(heard.text if held else "")
        return {
            "load_ms": load_ms,
            "utterance_ms": times,
            "texts": texts,
            "peak_rss_mb": peak_rss_mb(),
        }

    return run


def compare_recognisers(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """p50 and max per utterance, load time and peak RSS of each recogniser."""
    out: dict[str, Any] = {}
    for name, result in results.items():
        if "error" in result:
            out[name] = {"label": RECOGNISERS[name], "skipped": result["error"]}
            continue
        times = sorted(result["utterance_ms"])
        out[name] = {
            "label": RECOGNISERS[name],
            "utterances": len(times),
            "p50_ms": round(float(np.median(times)), 1) if times else None,
            "max_ms": round(times[-1], 1) if times else None,
            "load_ms": result["load_ms"],
            "peak_rss_mb": result["peak_rss_mb"],
            "texts": result["texts"],
        }
    return out


def table(section: dict[str, Any]) -> list[str]:
    lines = ["  STT engines on the same utterances (each in its own process)"]
    for item in section.values():
        if "skipped" in item:
            lines.append(f"    {item['label']:<34} skipped: {item['skipped']}")
            continue
        lines.append(
            f"    {item['label']:<34} p50 {item['p50_ms']:>7.1f} ms  max {item['max_ms']:>7.1f} ms"
            f"  load {item['load_ms']:>7.0f} ms  peak RSS {item['peak_rss_mb']:>6.1f} MB"
        )
    return lines
