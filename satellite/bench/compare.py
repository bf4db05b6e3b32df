"""`--compare`: the reference loops on the same audio, and the ratio of ours to theirs.

- wake: openwakeword's own `Model.predict` (ONNX), frame by frame, on the turns and the idle
  audio; per-frame time and the idle CPU share;
- STT: pocketsphinx with its default US-English language model (open vocabulary) on the very
  utterances our VAD cut; time per utterance and word accuracy;
- LLM: llama-cpp-python's plain `create_completion` on the same model (full profile only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from satellite.bench.corpus import LLM_REPLY, Turn
from satellite.bench.machine import version
from satellite.bench.recognisers import RECOGNISERS, compare_recognisers
from satellite.bench.recognisers import table as engines_table
from satellite.bench.recorder import TurnRecord
from satellite.bench.runner import RunResult
from satellite.bench.stages import Profile
from satellite.bench.stats import summarize, word_accuracy
from satellite.bench.workers import run_worker


def save_audio(
    path: Path,
    turns: Sequence[Turn],
    idle: np.ndarray,
    result: RunResult,
    extra: dict[str, Any] | None = None,
) -> None:
    """The turns, the idle audio and each utterance our VAD cut, for the worker processes;
    `extra`: more arrays (the wake engines' corpus in both voice families)."""
    arrays: dict[str, Any] = {"turns": np.concatenate([t.audio for t in turns]), "idle": idle}
    arrays.update(extra or {})
    for i, record in enumerate(result.records):
        if record.utterance is not None:
            arrays[f"utt{i:04d}"] = record.utterance.audio
    arrays["questions"] = np.array(questions(turns, result.records), dtype=str)
    np.savez(path, **arrays)


def questions(turns: Sequence[Turn], records: Sequence[TurnRecord]) -> list[str]:
    """What our speech-to-text heard of the corpus's questions for the language model."""
    pairs = zip(turns, records, strict=True)
    return [r.transcript for t, r in pairs if t.intent == LLM_REPLY and r.transcript]


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return round(ours / theirs, 3) if ours is not None and theirs else None


def _p50(values: Sequence[float]) -> float | None:
    stats = summarize(values)
    return None if stats is None else stats.p50


def compare_wake(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our listening front end (wake word + VAD) against openwakeword's loop, each alone in
    its own process on the idle audio: per-frame time, CPU share, load time, peak RSS."""
    if "error" in theirs or "error" in ours:
        return {"skipped": theirs.get("error") or ours["error"]}

    def pair(ours_value: float | None, theirs_value: float | None) -> dict[str, Any]:
        return {
            "ours": ours_value,
            "theirs": theirs_value,
            "ratio": _ratio(ours_value, theirs_value),
        }

    return {
        "reference": f"openwakeword {version('openwakeword')} Model.predict (onnx)",
        "frame_p50_ms": pair(_p50(ours["frame_ms"]), _p50(theirs["frame_ms"])),
        "idle_cpu_percent": pair(ours["idle_cpu_percent"], theirs["idle_cpu_percent"]),
        "load_ms": pair(ours["load_ms"], theirs["load_ms"]),
        "peak_rss_mb": pair(ours["peak_rss_mb"], theirs["peak_rss_mb"]),
    }


def compare_stt(
    turns: Sequence[Turn], records: Sequence[TurnRecord], theirs: dict[str, Any]
) -> dict[str, Any]:
    if "error" in theirs:
        return {"skipped": theirs["error"]}
    heard = [(t, r) for t, r in zip(turns, records, strict=True) if r.utterance is not None]
    ours_ms = [r.timings.stt_ms for _, r in heard if r.timings is not None]
    ours_p50, theirs_p50 = _p50(ours_ms), _p50(theirs["utterance_ms"])
    ours_acc = word_accuracy([(t.command, r.transcript) for t, r in heard])
    theirs_acc = word_accuracy(
        [(t.command, text) for (t, _), text in zip(heard, theirs["texts"], strict=True)]
    )
    return {
        "reference": f"pocketsphinx {version('pocketsphinx')}, default en-us language model",
        "utterances": len(heard),
        "utterance_p50_ms": {
            "ours": ours_p50,
            "theirs": theirs_p50,
            "ratio": _ratio(ours_p50, theirs_p50),
        },
        "word_accuracy": {"ours": ours_acc, "theirs": theirs_acc},
        "reference_load_ms": theirs["load_ms"],
        "reference_texts": theirs["texts"],
    }


LLM_STEPS: Final = {
    "intent": "intent (skills' grammar)",
    "intent_none": 'intent "none" (a question)',
    "first_token": "answer: first token",
    "first_sentence": "answer: first sentence",
    "token_16": "answer: 16th token",
    "answer_total": "answer: whole",
}


def compare_llm(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Our engine against plain `create_completion`, each alone in its own process, on the
    same questions (`satellite.bench.llmprobe`): p50 of each step, ours / theirs."""
    if "error" in theirs or "error" in ours:
        return {"skipped": theirs.get("error") or ours["error"]}
    steps = {}
    for key in LLM_STEPS:
        mine, other = _p50(ours[key]), _p50(theirs[key])
        steps[key] = {"ours": mine, "theirs": other, "ratio": _ratio(mine, other)}
    return {
        "reference": f"llama-cpp-python {version('llama_cpp_python')} create_completion",
        "requests": len(theirs["answer_total"]),
        "p50_ms": steps,
        "load_ms": {"ours": ours["load_ms"], "theirs": theirs["load_ms"]},
        "peak_rss_mb": {"ours": ours["peak_rss_mb"], "theirs": theirs["peak_rss_mb"]},
        "model_speed": theirs["speed"],
    }


def compare(
    profile: Profile,
    turns: Sequence[Turn],
    result: RunResult,
    data: Path,
    config_path: str | None,
    llm_ours: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the reference loops, each in its own process, on the audio saved in `data`."""
    wake = compare_wake(
        run_worker("listener", config_path, data), run_worker("openwakeword", config_path, data)
    )
    stt = run_worker("pocketsphinx", config_path, data)
    llm = (
        compare_llm(llm_ours or {"error": "not run"}, run_worker("llama", config_path, data))
        if profile.llm
        else {
            "skipped": f"n/a ({profile.name} profile has no language model; the "
            "llama-cpp-python create_completion reference runs with --profile full)"
        }
    )
    engines = {name: run_worker(f"stt_{name}", config_path, data) for name in RECOGNISERS}
    return {
        "wake": wake,
        "stt": compare_stt(turns, result.records, stt),
        "stt_engines": compare_recognisers(engines),
        "llm": llm,
    }


def _num(value: float | None, spec: str) -> str:
    return "n/a".rjust(8) if value is None else format(value, spec)


def _pair(name: str, item: dict[str, Any], unit: str) -> str:
    return (
        f"  {name:<30} ours {_num(item['ours'], '>8.2f')} {unit:<3} "
        f"theirs {_num(item['theirs'], '>8.2f')} {unit:<3} ratio {_num(item['ratio'], '.2f')}"
    )


def table(comparison: dict[str, Any]) -> str:
    lines = ["", "compared with the reference loops (ratio = ours / theirs; below 1 is better)"]
    wake, stt = comparison["wake"], comparison["stt"]
    if "skipped" in wake:
        lines.append(f"  wake: skipped: {wake['skipped']}")
    else:
        lines += [
            f"  wake word + VAD alone vs {wake['reference']} (each in its own process)",
            _pair("per 80 ms frame (p50)", wake["frame_p50_ms"], "ms"),
            _pair("idle CPU, % of one core", wake["idle_cpu_percent"], "%"),
            _pair("load, imports included", wake["load_ms"], "ms"),
            _pair("peak RSS (own process)", wake["peak_rss_mb"], "MB"),
        ]
    if "skipped" in stt:
        lines.append(f"  STT: skipped: {stt['skipped']}")
    else:
        acc = stt["word_accuracy"]
        lines += [
            f"  STT vs {stt['reference']} ({stt['utterances']} utterances)",
            _pair("per utterance (p50)", stt["utterance_p50_ms"], "ms"),
            f"  {'word accuracy':<30} ours {_num(acc['ours'], '>8.2%')}     "
            f"theirs {_num(acc['theirs'], '>8.2%')}",
        ]
    if "stt_engines" in comparison:
        lines += engines_table(comparison["stt_engines"])
    llm = comparison["llm"]
    if "skipped" in llm:
        lines.append(f"  LLM: skipped: {llm['skipped']}")
    else:
        lines.append(f"  LLM alone vs {llm['reference']} ({llm['requests']} requests, p50)")
        for key, label in LLM_STEPS.items():
            lines.append(_pair(label, llm["p50_ms"][key], "ms"))
        speed = llm["model_speed"]
        lines.append(
            f"  model pace (plain llama.cpp): prompt {speed['prefill_tokens_per_s']} tokens/s, "
            f"generation {speed['generation_tokens_per_s']} tokens/s"
        )
    return "\n".join(lines)
